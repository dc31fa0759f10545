using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Optimizer.Domain.Formats.Safetensors;

/// <summary>One tensor of a safetensors file; offsets are relative to the start of the data section.</summary>
public sealed record TensorEntry(string Name, SafetensorsDtype Dtype, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public long ByteLength => End - Begin;
}

/// <summary>
/// A parsed and fully validated safetensors header: 8-byte little-endian header length, a UTF-8 JSON
/// object of tensors (and an optional <c>__metadata__</c> of strings), then the data section.
/// </summary>
/// <remarks>
/// Validation follows the reference implementation's rules and is stricter where it is silent:
/// the tensors must tile the data section exactly (sorted by offset, no gap, no overlap, ending at the
/// data length), so a file that validates can be read without further checks.
/// </remarks>
public sealed class SafetensorsHeader
{
    /// <summary>The reference implementation's limit (100 MB); larger headers are refused.</summary>
    public const int MaxHeaderBytes = 100_000_000;

    private SafetensorsHeader(IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string> metadata, long headerLength)
    {
        Tensors = tensors;
        Metadata = metadata;
        HeaderLength = headerLength;
    }

    /// <summary>Tensors in file order (ascending offsets).</summary>
    public IReadOnlyList<TensorEntry> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Length of the JSON header in bytes (excluding the 8-byte prefix).</summary>
    public long HeaderLength { get; }
    /// <summary>Where the data section starts in the file.</summary>
    public long DataStart => 8 + HeaderLength;
    public long DataLength => Tensors.Count == 0 ? 0 : Tensors[^1].End;

    /// <summary>Reads the 8-byte prefix; throws when it is truncated or out of range.</summary>
    public static long ReadHeaderLength(ReadOnlySpan<byte> prefix, long? fileLength)
    {
        if (prefix.Length < 8)
        {
            throw new SafetensorsFormatException("file is shorter than the 8-byte header length prefix");
        }
        var length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length == 0 || length > MaxHeaderBytes)
        {
            throw new SafetensorsFormatException($"header length {length} is outside 1..{MaxHeaderBytes} bytes");
        }
        if (fileLength is { } total && (long)length > total - 8)
        {
            throw new SafetensorsFormatException($"header length {length} goes beyond the end of the file ({total} bytes)");
        }
        return (long)length;
    }

    /// <summary>Parses and validates the JSON header. <paramref name="dataLength"/>, when known, must equal the tensors' extent.</summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long? dataLength)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(json);
        }
        catch (DecoderFallbackException)
        {
            throw new SafetensorsFormatException("header is not valid UTF-8");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text.TrimEnd(' '), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new SafetensorsFormatException($"header is not valid JSON: {ex.Message}");
        }
        using (document)
        {
            return FromDocument(document.RootElement, json.Length, dataLength);
        }
    }

    private static SafetensorsHeader FromDocument(JsonElement root, long headerLength, long? dataLength)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsFormatException("header is not a JSON object");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tensors = new List<TensorEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                throw new SafetensorsFormatException($"duplicate key '{property.Name}' in header");
            }
            if (property.Name == "__metadata__")
            {
                ReadMetadata(property.Value, metadata);
                continue;
            }
            tensors.Add(ReadTensor(property.Name, property.Value));
        }
        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        CheckTiling(tensors, dataLength);
        return new SafetensorsHeader(tensors, metadata, headerLength);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsFormatException("__metadata__ must be an object of strings");
        }
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String || !metadata.TryAdd(entry.Name, entry.Value.GetString()!))
            {
                throw new SafetensorsFormatException($"__metadata__ entry '{entry.Name}' must be a unique string");
            }
        }
    }

    private static TensorEntry ReadTensor(string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsFormatException($"tensor '{name}' must be an object");
        }
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !SafetensorsDtypeExtensions.TryParse(dtypeElement.GetString(), out var dtype))
        {
            throw new SafetensorsFormatException($"tensor '{name}' has an unknown or missing dtype");
        }
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new SafetensorsFormatException($"tensor '{name}' has no shape array");
        }
        var shape = new long[shapeElement.GetArrayLength()];
        var index = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var size) || size < 0)
            {
                throw new SafetensorsFormatException($"tensor '{name}' has an invalid dimension");
            }
            shape[index++] = size;
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array
            || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end)
            || begin < 0 || end < begin)
        {
            throw new SafetensorsFormatException($"tensor '{name}' has invalid data_offsets");
        }
        var entry = new TensorEntry(name, dtype, shape, begin, end);
        long elements;
        try
        {
            elements = shape.Aggregate(1L, (a, b) => checked(a * b));
            if (checked(elements * dtype.ElementSize()) != entry.ByteLength)
            {
                throw new SafetensorsFormatException(
                    $"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {elements * dtype.ElementSize()} bytes but data_offsets span {entry.ByteLength}");
            }
        }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException($"tensor '{name}' has a shape too large to address");
        }
        return entry;
    }

    private static void CheckTiling(List<TensorEntry> tensors, long? dataLength)
    {
        long expected = 0;
        foreach (var tensor in tensors)
        {
            if (tensor.Begin < expected)
            {
                throw new SafetensorsFormatException($"tensor '{tensor.Name}' overlaps the previous tensor");
            }
            if (tensor.Begin > expected)
            {
                throw new SafetensorsFormatException($"gap in the data section before tensor '{tensor.Name}'");
            }
            expected = tensor.End;
        }
        if (dataLength is { } length && expected != length)
        {
            throw new SafetensorsFormatException(expected > length
                ? $"tensors need {expected} data bytes but the file has {length}"
                : $"file has {length - expected} bytes after the last tensor");
        }
    }
}

/// <summary>A safetensors file that breaks the format; the message says what is wrong.</summary>
public sealed class SafetensorsFormatException(string message) : Exception(message);
