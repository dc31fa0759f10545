namespace Optimizer.Worker.Modeling.Onnx;

/// <summary>
/// A forward-only reader of the protobuf wire format: just enough to walk the ONNX messages the importer
/// needs (varints, fixed 32/64-bit values and length-delimited fields), without generated classes.
/// </summary>
/// <remarks>Length-delimited fields come back as slices of the input, so a 90 MB model is never copied.</remarks>
public struct ProtoReader(ReadOnlyMemory<byte> buffer)
{
    private readonly ReadOnlyMemory<byte> _buffer = buffer;
    private int _position;

    public const int WireVarint = 0;
    public const int WireFixed64 = 1;
    public const int WireLengthDelimited = 2;
    public const int WireFixed32 = 5;

    public readonly bool AtEnd => _position >= _buffer.Length;

    /// <summary>Reads the next field's key; false at the end of the message.</summary>
    public bool TryReadTag(out int fieldNumber, out int wireType)
    {
        if (AtEnd)
        {
            fieldNumber = 0;
            wireType = 0;
            return false;
        }
        var key = ReadVarint();
        fieldNumber = (int)(key >> 3);
        wireType = (int)(key & 7);
        return true;
    }

    public ulong ReadVarint()
    {
        var span = _buffer.Span;
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= span.Length)
            {
                throw new InvalidDataException("protobuf varint runs past the end of the message");
            }
            var b = span[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
        throw new InvalidDataException("protobuf varint longer than 10 bytes");
    }

    public ReadOnlyMemory<byte> ReadBytes()
    {
        var length = checked((int)ReadVarint());
        if (length < 0 || _position + length > _buffer.Length)
        {
            throw new InvalidDataException("protobuf length-delimited field runs past the end of the message");
        }
        var slice = _buffer.Slice(_position, length);
        _position += length;
        return slice;
    }

    public string ReadString() => System.Text.Encoding.UTF8.GetString(ReadBytes().Span);

    /// <summary>Skips a field of <paramref name="wireType"/> the caller does not need.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case WireVarint:
                ReadVarint();
                break;
            case WireFixed64:
                Advance(8);
                break;
            case WireLengthDelimited:
                ReadBytes();
                break;
            case WireFixed32:
                Advance(4);
                break;
            default:
                throw new InvalidDataException($"protobuf wire type {wireType} is not supported");
        }
    }

    /// <summary>
    /// Appends a repeated int64 field's values, which may come packed (one length-delimited run) or one per tag.
    /// </summary>
    public void ReadInt64s(int wireType, List<long> into)
    {
        if (wireType == WireVarint)
        {
            into.Add((long)ReadVarint());
            return;
        }
        var packed = new ProtoReader(ReadBytes());
        while (!packed.AtEnd)
        {
            into.Add((long)packed.ReadVarint());
        }
    }

    private void Advance(int count)
    {
        if (_position + count > _buffer.Length)
        {
            throw new InvalidDataException("protobuf fixed-width field runs past the end of the message");
        }
        _position += count;
    }
}
