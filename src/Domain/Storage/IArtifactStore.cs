namespace Optimizer.Domain.Storage;

/// <summary>Blob storage for model folders and dataset files (Azure Blob Storage; Azurite locally).</summary>
/// <remarks>Paths are relative to the service's container, e.g. <c>tenants/{tenant}/models/{id}/config.json</c>.</remarks>
public interface IArtifactStore
{
    /// <summary>Streams <paramref name="content"/> to <paramref name="path"/> (never buffered whole), returning its size and SHA-256.</summary>
    Task<StoredBlob> UploadAsync(string path, Stream content, CancellationToken cancellationToken);

    Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken);

    /// <summary>Reads <paramref name="length"/> bytes from <paramref name="offset"/> (for HTTP Range).</summary>
    Task<Stream> OpenReadRangeAsync(string path, long offset, long length, CancellationToken cancellationToken);

    Task DownloadToFileAsync(string path, string localPath, CancellationToken cancellationToken);

    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken);

    /// <summary>Deletes every blob under <paramref name="prefix"/>; returns how many were deleted.</summary>
    Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>True when the store answers (for <c>/readyz</c>).</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);
}

/// <summary>What was written: size in bytes and lowercase hex SHA-256.</summary>
public sealed record StoredBlob(string Path, long SizeBytes, string Sha256);
