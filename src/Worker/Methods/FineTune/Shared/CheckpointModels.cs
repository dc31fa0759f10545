using Microsoft.EntityFrameworkCore;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Storage;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Methods.FineTune.Shared;

/// <summary>Registers a fine-tune's intermediate checkpoints as usable models (listed by <c>GET /v1/jobs/{id}/checkpoints</c>).</summary>
public interface ICheckpointModels
{
    /// <summary>
    /// Uploads <paramref name="folder"/> as the model of <paramref name="job"/>'s checkpoint at <paramref name="step"/> and
    /// returns its id. Idempotent per (job, step): a retried attempt that reaches the same step gets the same model back.
    /// </summary>
    Task<string> PublishAsync(Job job, int step, string folder, OutputModelInfo info, IReadOnlyList<string> sourceModelIds,
        CancellationToken cancellationToken);
}

/// <summary>The database + blob store <see cref="ICheckpointModels"/> (its own DbContext: the runner's stays untouched until the job ends).</summary>
public sealed class CheckpointModels(DbContextOptions<OptimizerDbContext> dbOptions, IArtifactStore store) : ICheckpointModels
{
    /// <summary>The job event stage that records a checkpoint model (<c>data: {step, metrics, model_id}</c>).</summary>
    public const string EventStage = Domain.Jobs.CheckpointEvents.Stage;

    /// <summary><c>mdl_{job suffix}_step{N}</c>: derived from the job id and step, so every attempt agrees on it.</summary>
    public static string ModelId(string jobId, int step) => $"{JobArtifacts.OutputModelId(jobId)}_step{step}";

    public async Task<string> PublishAsync(Job job, int step, string folder, OutputModelInfo info, IReadOnlyList<string> sourceModelIds,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(info);
        var id = ModelId(job.Id, step);
        await using var db = new OptimizerDbContext(dbOptions);
        if (await db.Models.AnyAsync(m => m.Id == id, cancellationToken))
        {
            return id;
        }
        var model = new Model(job.TenantId, info.Name, id);
        // A dead attempt may have uploaded part of the folder before registering it.
        await store.DeletePrefixAsync(model.BlobPrefix, cancellationToken);
        await ModelPublisher.UploadAsync(job, info, sourceModelIds, folder, store, model, cancellationToken);
        db.Models.Add(model);
        await db.SaveChangesAsync(cancellationToken);
        return id;
    }
}

/// <summary>Keeps checkpoint folders on local disk (benchmarks and tests without a service).</summary>
public sealed class LocalCheckpointModels(string root) : ICheckpointModels
{
    public Task<string> PublishAsync(Job job, int step, string folder, OutputModelInfo info, IReadOnlyList<string> sourceModelIds,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var target = Path.Combine(root, $"step{step}");
        if (Directory.Exists(target))
        {
            Directory.Delete(target, recursive: true);
        }
        Directory.CreateDirectory(root);
        Directory.Move(folder, target);
        return Task.FromResult(target);
    }
}
