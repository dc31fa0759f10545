using System.Runtime.InteropServices;

namespace Optimizer.Worker.Modeling.Onnx;

/// <summary>One ONNX node: its operator and the value names it reads and writes.</summary>
public sealed record OnnxNode(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>One ONNX tensor (an initializer or a <c>Constant</c> node's value) with its little-endian data.</summary>
public sealed record OnnxTensor(string Name, int DataType, long[] Dims, ReadOnlyMemory<byte> Data)
{
    /// <summary>ONNX <c>TensorProto.DataType.FLOAT</c>.</summary>
    public const int Float = 1;

    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);

    /// <summary>The values of a float tensor.</summary>
    public float[] ToFloats()
    {
        if (DataType != Float)
        {
            throw new InvalidDataException($"ONNX tensor '{Name}' has data type {DataType}, not float");
        }
        var values = MemoryMarshal.Cast<byte, float>(Data.Span).ToArray();
        if (values.LongLength != ElementCount)
        {
            throw new InvalidDataException($"ONNX tensor '{Name}' holds {values.Length} values for shape [{string.Join(", ", Dims)}]");
        }
        return values;
    }
}

/// <summary>
/// The parts of an ONNX <c>ModelProto</c> a weight importer needs: the graph's nodes, initializers (plus
/// tensors of <c>Constant</c> nodes), inputs and outputs. Field numbers follow onnx/onnx.proto.
/// </summary>
public sealed class OnnxGraph
{
    private OnnxGraph(List<OnnxNode> nodes, Dictionary<string, OnnxTensor> initializers, List<string> inputs, List<string> outputs)
    {
        Nodes = nodes;
        Initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
    }

    public IReadOnlyList<OnnxNode> Nodes { get; }
    /// <summary>Initializers by name, including <c>Constant</c> node outputs.</summary>
    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }
    public IReadOnlyList<string> Inputs { get; }
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>Parses a serialized <c>ModelProto</c>. External data (weights in side files) is not supported.</summary>
    public static OnnxGraph Parse(ReadOnlyMemory<byte> model)
    {
        var reader = new ProtoReader(model);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 7 && wire == ProtoReader.WireLengthDelimited)
            {
                return ParseGraph(reader.ReadBytes());
            }
            reader.Skip(wire);
        }
        throw new InvalidDataException("the ONNX model has no graph");
    }

    private static OnnxGraph ParseGraph(ReadOnlyMemory<byte> bytes)
    {
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var inputs = new List<string>();
        var outputs = new List<string>();
        var reader = new ProtoReader(bytes);
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1:
                    var (node, constant) = ParseNode(reader.ReadBytes());
                    nodes.Add(node);
                    if (constant is not null)
                    {
                        initializers[constant.Name] = constant;
                    }
                    break;
                case 5:
                    var tensor = ParseTensor(reader.ReadBytes(), null);
                    initializers[tensor.Name] = tensor;
                    break;
                case 11:
                    inputs.Add(ValueInfoName(reader.ReadBytes()));
                    break;
                case 12:
                    outputs.Add(ValueInfoName(reader.ReadBytes()));
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        return new OnnxGraph(nodes, initializers, inputs, outputs);
    }

    private static (OnnxNode Node, OnnxTensor? Constant) ParseNode(ReadOnlyMemory<byte> bytes)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = "", opType = "";
        var attributes = new List<ReadOnlyMemory<byte>>();
        var reader = new ProtoReader(bytes);
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: inputs.Add(reader.ReadString()); break;
                case 2: outputs.Add(reader.ReadString()); break;
                case 3: name = reader.ReadString(); break;
                case 4: opType = reader.ReadString(); break;
                case 5: attributes.Add(reader.ReadBytes()); break;
                default: reader.Skip(wire); break;
            }
        }
        OnnxTensor? constant = null;
        if (opType == "Constant" && outputs.Count == 1)
        {
            // AttributeProto field 5 is the tensor value ("value" attribute).
            foreach (var attribute in attributes)
            {
                var a = new ProtoReader(attribute);
                while (a.TryReadTag(out var field, out var wire))
                {
                    if (field == 5 && wire == ProtoReader.WireLengthDelimited)
                    {
                        constant = ParseTensor(a.ReadBytes(), outputs[0]);
                    }
                    else
                    {
                        a.Skip(wire);
                    }
                }
            }
        }
        return (new OnnxNode(name, opType, inputs, outputs), constant);
    }

    private static OnnxTensor ParseTensor(ReadOnlyMemory<byte> bytes, string? nameOverride)
    {
        var dims = new List<long>();
        var dataType = 0;
        var name = "";
        ReadOnlyMemory<byte> raw = default;
        List<byte>? floats = null;
        var reader = new ProtoReader(bytes);
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1: reader.ReadInt64s(wire, dims); break;
                case 2: dataType = (int)reader.ReadVarint(); break;
                case 4 when wire == ProtoReader.WireLengthDelimited:
                    // Packed float_data is the same little-endian bytes raw_data would hold.
                    (floats ??= []).AddRange(reader.ReadBytes().Span);
                    break;
                case 8: name = reader.ReadString(); break;
                case 9: raw = reader.ReadBytes(); break;
                case 13:
                    // external_data entries: the weights live in a side file.
                    throw new InvalidDataException($"ONNX tensor '{name}' keeps its data in an external file, which is not supported");
                default: reader.Skip(wire); break;
            }
        }
        var data = raw.Length > 0 || floats is null ? raw : floats.ToArray();
        return new OnnxTensor(nameOverride ?? name, dataType, [.. dims], data);
    }

    private static string ValueInfoName(ReadOnlyMemory<byte> bytes)
    {
        var reader = new ProtoReader(bytes);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1)
            {
                return reader.ReadString();
            }
            reader.Skip(wire);
        }
        return "";
    }
}
