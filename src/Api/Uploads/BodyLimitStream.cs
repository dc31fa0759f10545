using Optimizer.Api.Errors;
using Optimizer.Domain.Storage;

namespace Optimizer.Api.Uploads;

/// <summary>Counts what is read from the request body and fails with 413 as soon as the limit is passed.</summary>
/// <remarks>Kestrel enforces the same limit, but the test server and proxies may not: counting here is the guarantee.</remarks>
public sealed class BodyLimitStream(Stream inner, long limit) : ForwardReadStream
{
    public long BytesRead { get; private set; }

    public override int Read(Span<byte> buffer) => Account(inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Account(await inner.ReadAsync(buffer, cancellationToken));

    private int Account(int read)
    {
        BytesRead += read;
        if (BytesRead > limit)
        {
            throw ApiProblemException.TooLarge(limit);
        }
        return read;
    }

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
}
