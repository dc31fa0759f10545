using System.Buffers.Binary;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Evaluation;

/// <summary>Size, packing and finiteness facts of a model folder's safetensors files, read without loading the model.</summary>
public sealed record WeightStats(
    long SizeBytes,
    long QuantizedParameters,
    long QuantizedBytes,
    long OtherParameters,
    long OtherBytes,
    int MinQuantizedInFeatures,
    int MinQuantizedOutFeatures,
    IReadOnlyList<string> NonFiniteTensors)
{
    /// <summary>Reads every <c>*.safetensors</c> file of <paramref name="dir"/>.</summary>
    /// <param name="dir">The model folder.</param>
    /// <param name="bits">The GPTQ bits when the folder is quantized (to count packed weights), else null.</param>
    public static WeightStats Read(string dir, int? bits)
    {
        long size = 0, quantizedParams = 0, quantizedBytes = 0, otherParams = 0, otherBytes = 0;
        int minIn = int.MaxValue, minOut = int.MaxValue;
        var sizeSetByBits = true;
        var nonFinite = new List<string>();
        foreach (var path in Directory.GetFiles(dir, "*.safetensors", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using var stream = File.OpenRead(path);
            size += stream.Length;
            var prefix = new byte[8];
            stream.ReadExactly(prefix);
            var headerLength = SafetensorsHeader.ReadHeaderLength(prefix, stream.Length);
            var json = new byte[headerLength];
            stream.ReadExactly(json);
            var header = SafetensorsHeader.Parse(json, stream.Length - 8 - headerLength);
            var linears = QuantizedLinears.Find(header.Tensors, bits, t => ReadInt32s(stream, header.DataStart, t));
            foreach (var linear in linears.Values)
            {
                quantizedParams += linear.OutFeatures * linear.InFeatures;
                minIn = (int)Math.Min(minIn, linear.InFeatures);
                minOut = (int)Math.Min(minOut, linear.OutFeatures);
                sizeSetByBits &= linear.SizeSetByBits;
            }
            foreach (var tensor in header.Tensors)
            {
                if (QuantizedLinears.OwnerOf(tensor.Name, linears) is not null)
                {
                    quantizedBytes += tensor.ByteLength;
                }
                else
                {
                    otherParams += tensor.ElementCount;
                    otherBytes += tensor.ByteLength;
                }
                if (nonFinite.Count < 10 && !IsFinite(stream, header.DataStart, tensor))
                {
                    nonFinite.Add(tensor.Name);
                }
            }
        }
        return new WeightStats(size, quantizedParams, quantizedBytes, otherParams, otherBytes,
            minIn == int.MaxValue ? 0 : minIn, minOut == int.MaxValue ? 0 : minOut, nonFinite) { SizeSetByBits = sizeSetByBits };
    }

    /// <summary>
    /// True when every quantized linear's size follows from its bit width and group size (int packing, FP8, FP4 without
    /// LoRC); LoRC factors, trit planes and BitStack blocks are sized by their layouts (<see cref="QuantizedLinears.Linear"/>).
    /// </summary>
    public bool SizeSetByBits { get; init; } = true;

    private static int[] ReadInt32s(Stream stream, long dataStart, TensorEntry tensor)
    {
        if (tensor.Dtype != SafetensorsDtype.I32 || tensor.ByteLength > 64)
        {
            return [];
        }
        var bytes = new byte[tensor.ByteLength];
        stream.Position = dataStart + tensor.Begin;
        stream.ReadExactly(bytes);
        return [.. Enumerable.Range(0, bytes.Length / 4).Select(i => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i)))];
    }

    private static bool IsFinite(Stream stream, long dataStart, TensorEntry tensor)
    {
        if (tensor.Dtype is not (SafetensorsDtype.F32 or SafetensorsDtype.F16 or SafetensorsDtype.BF16 or SafetensorsDtype.F64
            or SafetensorsDtype.F8_E4M3 or SafetensorsDtype.F8_E5M2))
        {
            return true;
        }
        var element = tensor.Dtype.ElementSize();
        var buffer = new byte[1 << 20];
        stream.Position = dataStart + tensor.Begin;
        var remaining = tensor.ByteLength;
        while (remaining > 0)
        {
            var chunk = (int)Math.Min(buffer.Length, remaining);
            stream.ReadExactly(buffer, 0, chunk);
            remaining -= chunk;
            for (var k = 0; k + element <= chunk; k += element)
            {
                var span = buffer.AsSpan(k, element);
                var finite = tensor.Dtype switch
                {
                    SafetensorsDtype.F32 => float.IsFinite(BinaryPrimitives.ReadSingleLittleEndian(span)),
                    SafetensorsDtype.F16 => Half.IsFinite(BinaryPrimitives.ReadHalfLittleEndian(span)),
                    SafetensorsDtype.F64 => double.IsFinite(BinaryPrimitives.ReadDoubleLittleEndian(span)),
                    SafetensorsDtype.F8_E4M3 => float.IsFinite(Fp8.Decode(span[0], Fp8Format.E4M3)),
                    SafetensorsDtype.F8_E5M2 => float.IsFinite(Fp8.Decode(span[0], Fp8Format.E5M2)),
                    // bfloat16: exponent bits all ones means NaN or infinity.
                    _ => (BinaryPrimitives.ReadUInt16LittleEndian(span) & 0x7F80) != 0x7F80,
                };
                if (!finite)
                {
                    return false;
                }
            }
        }
        return true;
    }
}
