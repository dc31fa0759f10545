using System.Buffers.Binary;
using System.Text.Json;
using Optimizer.Domain.Formats.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling;

/// <summary>
/// Writes a safetensors file the way the reference implementation does: <c>__metadata__</c> first
/// (<c>{"format":"pt"}</c> by default), tensors laid out by decreasing element size then name, so every
/// tensor is aligned to its element size, and the JSON header padded with spaces to a multiple of 8 bytes.
/// </summary>
/// <remarks>
/// Tensors are collected first (the header needs every shape and offset) and their data streamed on
/// <see cref="WriteTo"/>: added tensors are read only then, and deferred tensors are produced one at a
/// time and disposed right after being written, so a model can be written without holding it in memory.
/// </remarks>
public sealed class SafetensorsWriter
{
    private const int Alignment = 8;
    private readonly Dictionary<string, PendingTensor> _tensors = new(StringComparer.Ordinal);

    /// <summary>String metadata written as <c>__metadata__</c>; starts as <c>{"format":"pt"}</c>.</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" };

    public int Count => _tensors.Count;

    /// <summary>Adds a TorchSharp tensor; it is read (not disposed) when the file is written, so keep it alive until then.</summary>
    public SafetensorsWriter Add(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return AddPending(new PendingTensor(name, tensor.dtype.ToSafetensors(), tensor.shape, tensor, null, null));
    }

    /// <summary>Adds raw little-endian bytes of the given dtype and shape (e.g. FP8 codes or packed integers).</summary>
    public SafetensorsWriter Add(string name, SafetensorsDtype dtype, long[] shape, ReadOnlyMemory<byte> data)
    {
        var pending = new PendingTensor(name, dtype, shape, null, data, null);
        if (data.Length != pending.ByteLength)
        {
            throw new ArgumentException($"tensor '{name}': {dtype} {Describe(shape)} needs {pending.ByteLength} bytes, got {data.Length}", nameof(data));
        }
        return AddPending(pending);
    }

    /// <summary>
    /// Adds a tensor produced only while the file is written; the produced tensor must have the declared
    /// dtype and shape and is disposed after it has been written.
    /// </summary>
    public SafetensorsWriter Add(string name, SafetensorsDtype dtype, long[] shape, Func<Tensor> produce)
    {
        ArgumentNullException.ThrowIfNull(produce);
        return AddPending(new PendingTensor(name, dtype, shape, null, null, produce));
    }

    /// <summary>
    /// Adds raw little-endian bytes produced only while the file is written (e.g. FP8 codes, which have no
    /// TorchSharp dtype); the produced buffer must hold exactly the declared dtype and shape.
    /// </summary>
    public SafetensorsWriter AddBytes(string name, SafetensorsDtype dtype, long[] shape, Func<byte[]> produce)
    {
        ArgumentNullException.ThrowIfNull(produce);
        return AddPending(new PendingTensor(name, dtype, shape, null, null, null, produce));
    }

    /// <summary>Writes the file to <paramref name="path"/> through a temporary file, so a partial file is never left under the name.</summary>
    public void Save(string path)
    {
        var temporary = path + ".partial";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            WriteTo(stream);
        }
        File.Move(temporary, path, overwrite: true);
    }

    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var ordered = _tensors.Values
            .OrderByDescending(t => t.Dtype.ElementSize())
            .ThenBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
        var header = BuildHeader(ordered);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (var tensor in ordered)
        {
            WriteData(stream, tensor);
        }
        stream.Flush();
    }

    private SafetensorsWriter AddPending(PendingTensor pending)
    {
        ArgumentException.ThrowIfNullOrEmpty(pending.Name);
        if (pending.Name == "__metadata__")
        {
            throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor");
        }
        if (pending.Shape.Any(d => d < 0))
        {
            throw new ArgumentException($"tensor '{pending.Name}' has a negative dimension");
        }
        if (!_tensors.TryAdd(pending.Name, pending))
        {
            throw new ArgumentException($"tensor '{pending.Name}' was already added");
        }
        return this;
    }

    private byte[] BuildHeader(List<PendingTensor> ordered)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (Metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in Metadata)
                {
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var tensor in ordered)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.Dtype.ToString());
                json.WriteStartArray("shape");
                foreach (var dim in tensor.Shape)
                {
                    json.WriteNumberValue(dim);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.ByteLength;
            }
            json.WriteEndObject();
        }
        var padding = (Alignment - (int)(buffer.Length % Alignment)) % Alignment;
        for (var i = 0; i < padding; i++)
        {
            buffer.WriteByte((byte)' ');
        }
        return buffer.ToArray();
    }

    private static void WriteData(Stream stream, PendingTensor pending)
    {
        if (pending.Bytes is { } bytes)
        {
            stream.Write(bytes.Span);
            return;
        }
        if (pending.ProduceBytes is { } produceBytes)
        {
            var buffer = produceBytes();
            if (buffer.LongLength != pending.ByteLength)
            {
                throw new InvalidOperationException(
                    $"tensor '{pending.Name}' was declared {pending.Dtype} {Describe(pending.Shape)} ({pending.ByteLength} bytes) but {buffer.LongLength} bytes were produced");
            }
            stream.Write(buffer);
            return;
        }
        // A produced tensor belongs to the writer; an added one stays the caller's.
        using var produced = pending.Produce?.Invoke();
        using var scope = torch.NewDisposeScope();
        var tensor = pending.Tensor ?? produced!;
        if (tensor.dtype.ToSafetensors() != pending.Dtype || !tensor.shape.SequenceEqual(pending.Shape))
        {
            throw new InvalidOperationException(
                $"tensor '{pending.Name}' was declared {pending.Dtype} {Describe(pending.Shape)} but is {tensor.dtype} {Describe(tensor.shape)}");
        }
        var contiguous = tensor.detach().cpu().contiguous();
        WriteNative(stream, TensorMemory.DataPointer(contiguous), pending.ByteLength);
    }

    private static unsafe void WriteNative(Stream stream, IntPtr data, long length)
    {
        var pointer = (byte*)data;
        for (long offset = 0; offset < length; offset += 1 << 30)
        {
            var count = (int)Math.Min(1 << 30, length - offset);
            stream.Write(new ReadOnlySpan<byte>(pointer + offset, count));
        }
    }

    private static string Describe(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private sealed record PendingTensor(
        string Name, SafetensorsDtype Dtype, long[] Shape, Tensor? Tensor, ReadOnlyMemory<byte>? Bytes, Func<Tensor>? Produce,
        Func<byte[]>? ProduceBytes = null)
    {
        public long ByteLength => Shape.Aggregate(1L, (a, b) => checked(a * b)) * Dtype.ElementSize();
    }
}
