using System.Buffers.Binary;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Storage;

namespace Optimizer.Api.Uploads;

/// <summary>
/// Passes a safetensors file through unchanged while validating it: the 8-byte prefix and the JSON header
/// are read and parsed before the first byte is handed on, the data section is counted, and at the end
/// its length must equal the header's extent. Any violation throws <see cref="SafetensorsFormatException"/>
/// (also kept in <see cref="Failure"/>, because upload clients may wrap exceptions thrown by the source).
/// </summary>
public sealed class SafetensorsValidatingStream(Stream inner) : ForwardReadStream
{
    private byte[]? _head;
    private int _headPosition;
    private long _dataBytes;
    private bool _finished;

    public SafetensorsHeader? Header { get; private set; }
    public SafetensorsFormatException? Failure { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            if (Header is null)
            {
                await ReadHeaderAsync(cancellationToken);
            }
            if (_headPosition < _head!.Length)
            {
                var count = Math.Min(buffer.Length, _head.Length - _headPosition);
                _head.AsMemory(_headPosition, count).CopyTo(buffer);
                _headPosition += count;
                return count;
            }
            var read = await inner.ReadAsync(buffer, cancellationToken);
            _dataBytes += read;
            if (read == 0 && buffer.Length > 0)
            {
                Finish();
            }
            else if (_dataBytes > Header!.DataLength)
            {
                throw new SafetensorsFormatException(
                    $"file has more data than its header describes ({Header.DataLength} bytes)");
            }
            return read;
        }
        catch (SafetensorsFormatException ex)
        {
            Failure ??= ex;
            throw;
        }
    }

    private async Task ReadHeaderAsync(CancellationToken cancellationToken)
    {
        var prefix = new byte[8];
        var got = await ReadFullyAsync(prefix, cancellationToken);
        var length = SafetensorsHeader.ReadHeaderLength(prefix.AsSpan(0, got), fileLength: null);
        // Bounded by SafetensorsHeader.MaxHeaderBytes (checked above): the header is the only part held in memory.
        var head = new byte[8 + length];
        prefix.CopyTo(head, 0);
        var headerBytes = await ReadFullyAsync(head.AsMemory(8), cancellationToken);
        if (headerBytes < length)
        {
            throw new SafetensorsFormatException(
                $"header length {length} goes beyond the end of the file ({8 + headerBytes} bytes)");
        }
        BinaryPrimitives.WriteUInt64LittleEndian(head, (ulong)length);
        Header = SafetensorsHeader.Parse(head.AsSpan(8), dataLength: null);
        _head = head;
    }

    private void Finish()
    {
        if (_finished)
        {
            return;
        }
        _finished = true;
        if (_dataBytes != Header!.DataLength)
        {
            throw new SafetensorsFormatException(_dataBytes < Header.DataLength
                ? $"tensors need {Header.DataLength} data bytes but the file has {_dataBytes}"
                : $"file has {_dataBytes - Header.DataLength} bytes after the last tensor");
        }
    }

    private async Task<int> ReadFullyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await inner.ReadAsync(buffer[total..], cancellationToken);
            if (read == 0)
            {
                break;
            }
            total += read;
        }
        return total;
    }
}
