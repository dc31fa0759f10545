using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Models;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Storage;

namespace Optimizer.Worker.Execution;

/// <summary>Downloads model folders of one job's tenant into <c>{workDir}/models/{id}/</c>.</summary>
public sealed class BlobModelFetcher(OptimizerDbContext db, IArtifactStore store, string tenantId, string workDir) : IModelFetcher
{
    private readonly Dictionary<string, SourceModel> _cache = [];

    public async Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(modelId, out var cached))
        {
            return cached;
        }
        var model = await db.Models.AsNoTracking().Include(m => m.Files)
            .FirstOrDefaultAsync(m => m.Id == modelId, cancellationToken);
        // A model of another tenant is reported as missing, exactly like the Api does.
        if (model is null || model.TenantId != tenantId)
        {
            throw new JobFailedException(JobErrorCodes.InvalidModel, $"Model {modelId} does not exist.");
        }
        if (model.Status != ModelStatus.Ready)
        {
            throw new JobFailedException(JobErrorCodes.InvalidModel, $"Model {modelId} is not ready.");
        }
        var dir = Path.Combine(workDir, "models", modelId);
        Directory.CreateDirectory(dir);
        foreach (var file in model.Files)
        {
            var local = Path.GetFullPath(Path.Combine(dir, file.Name));
            if (!local.StartsWith(Path.GetFullPath(dir) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new JobFailedException(JobErrorCodes.InvalidModel, $"Model {modelId} has an unsafe file name '{file.Name}'.");
            }
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            await store.DownloadToFileAsync(model.BlobPrefix + file.Name, local, cancellationToken);
        }
        var source = new SourceModel(model, dir);
        _cache[modelId] = source;
        return source;
    }
}
