using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Storage;

namespace Optimizer.Worker.Execution;

/// <summary>Reads a text dataset visible to a tenant (its own or a built-in one).</summary>
public interface IDatasetText
{
    /// <exception cref="JobFailedException">Code <c>invalid_dataset</c> when the dataset does not exist for the tenant.</exception>
    Task<string> LoadAsync(string tenantId, string datasetId, CancellationToken cancellationToken);
}

/// <summary>The database + blob store implementation of <see cref="IDatasetText"/>.</summary>
public sealed class DatasetText(OptimizerDbContext db, IArtifactStore store) : IDatasetText
{
    public async Task<string> LoadAsync(string tenantId, string datasetId, CancellationToken cancellationToken)
    {
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == datasetId, cancellationToken);
        if (dataset is null || (dataset.TenantId is not null && dataset.TenantId != tenantId))
        {
            throw new JobFailedException(JobErrorCodes.InvalidDataset, $"Dataset {datasetId} does not exist.");
        }
        await using var stream = await store.OpenReadAsync(dataset.BlobPath, cancellationToken);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(cancellationToken);
    }
}
