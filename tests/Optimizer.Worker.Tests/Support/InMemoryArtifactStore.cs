using System.Collections.Concurrent;
using System.Security.Cryptography;
using Optimizer.Domain.Storage;

namespace Optimizer.Worker.Tests.Support;

/// <summary>An <see cref="IArtifactStore"/> in a dictionary: job checkpoints without Azurite (resume tests).</summary>
public sealed class InMemoryArtifactStore : IArtifactStore
{
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);

    public async Task<StoredBlob> UploadAsync(string path, Stream content, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        var bytes = buffer.ToArray();
        _blobs[path] = bytes;
        return new StoredBlob(path, bytes.LongLength, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken) =>
        Task.FromResult<Stream>(new MemoryStream(_blobs[path], writable: false));

    public Task<Stream> OpenReadRangeAsync(string path, long offset, long length, CancellationToken cancellationToken) =>
        Task.FromResult<Stream>(new MemoryStream(_blobs[path], (int)offset, (int)length, writable: false));

    public async Task DownloadToFileAsync(string path, string localPath, CancellationToken cancellationToken) =>
        await File.WriteAllBytesAsync(localPath, _blobs[path], cancellationToken);

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken) => Task.FromResult(_blobs.ContainsKey(path));

    public Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        var keys = _blobs.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        keys.ForEach(k => _blobs.TryRemove(k, out _));
        return Task.FromResult(keys.Count);
    }

    public Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([.. _blobs.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)]);

    public Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(true);
}
