using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Optimizer.Domain.Storage;

/// <summary><see cref="IArtifactStore"/> on one Azure Blob Storage container.</summary>
public sealed class BlobArtifactStore(BlobContainerClient container) : IArtifactStore
{
    private int _containerReady;

    public static BlobArtifactStore Create(string connectionString, string containerName = "optimizer") =>
        new(new BlobContainerClient(connectionString, containerName));

    public async Task<StoredBlob> UploadAsync(string path, Stream content, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        using var hashing = new HashingStream(content);
        // Block upload in 8 MB pieces with bounded concurrency: memory stays flat whatever the file size.
        var options = new BlobUploadOptions
        {
            TransferOptions = new Azure.Storage.StorageTransferOptions
            {
                InitialTransferSize = 8 * 1024 * 1024,
                MaximumTransferSize = 8 * 1024 * 1024,
                MaximumConcurrency = 2,
            },
        };
        await container.GetBlobClient(path).UploadAsync(hashing, options, cancellationToken);
        return new StoredBlob(path, hashing.BytesRead, hashing.FinishHash());
    }

    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken) =>
        await container.GetBlobClient(path).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken);

    public async Task<Stream> OpenReadRangeAsync(string path, long offset, long length, CancellationToken cancellationToken)
    {
        var response = await container.GetBlobClient(path).DownloadStreamingAsync(
            new BlobDownloadOptions { Range = new HttpRange(offset, length) }, cancellationToken);
        return response.Value.Content;
    }

    public async Task DownloadToFileAsync(string path, string localPath, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(localPath)!);
        await container.GetBlobClient(path).DownloadToAsync(localPath, cancellationToken);
    }

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken) =>
        await container.GetBlobClient(path).ExistsAsync(cancellationToken);

    public async Task<int> DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var name in await ListAsync(prefix, cancellationToken))
        {
            if (await container.DeleteBlobIfExistsAsync(name, cancellationToken: cancellationToken))
            {
                deleted++;
            }
        }
        return deleted;
    }

    public async Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        try
        {
            await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
            {
                names.Add(item.Name);
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No container yet: nothing stored.
        }
        return names;
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await EnsureContainerAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or AggregateException or OperationCanceledException)
        {
            _containerReady = 0;
            return false;
        }
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _containerReady) == 1)
        {
            return;
        }
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        Volatile.Write(ref _containerReady, 1);
    }
}
