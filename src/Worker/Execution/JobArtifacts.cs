using Optimizer.Domain.Jobs;
using Optimizer.Domain.Storage;

namespace Optimizer.Worker.Execution;

/// <summary>Where a job's blobs live, so that every attempt, the recovery sweep and clean-up agree on them.</summary>
public static class JobArtifacts
{
    /// <summary>
    /// The id of the job's output model: derived from the job id, so it is the same on every attempt. A retried job
    /// overwrites what a dead attempt uploaded instead of leaving a second, orphaned model folder.
    /// </summary>
    public static string OutputModelId(Job job) => OutputModelId(job.Id);

    /// <inheritdoc cref="OutputModelId(Job)"/>
    public static string OutputModelId(string jobId) => "mdl_" + jobId[(jobId.IndexOf('_') + 1)..];

    /// <summary>Blob folder of the job's output model (same as <c>Model.BlobPrefix</c> of that id).</summary>
    public static string OutputPrefix(string tenantId, string jobId) => $"tenants/{tenantId}/models/{OutputModelId(jobId)}/";

    /// <summary>Blob folder of the job's checkpoints: <c>tenants/{t}/jobs/{id}/checkpoint/</c>.</summary>
    public static string CheckpointPrefix(string tenantId, string jobId) => $"tenants/{tenantId}/jobs/{jobId}/checkpoint/";

    /// <summary>
    /// Deletes what an unfinished job left: the partial output model and, when <paramref name="checkpoints"/>, its
    /// checkpoints. Never throws: a failed clean-up is returned so the caller can log it, it must not mask the job's outcome.
    /// </summary>
    public static async Task<Exception?> DeleteAsync(IArtifactStore store, string tenantId, string jobId, bool checkpoints)
    {
        try
        {
            await store.DeletePrefixAsync(OutputPrefix(tenantId, jobId), CancellationToken.None);
            if (checkpoints)
            {
                await store.DeletePrefixAsync(CheckpointPrefix(tenantId, jobId), CancellationToken.None);
            }
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}
