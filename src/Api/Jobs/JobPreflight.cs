using Microsoft.Extensions.Options;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Api.Extensions;
using Optimizer.Domain.Methods.Routing;

namespace Optimizer.Api.Jobs;

/// <summary>Estimates a validated job (<see cref="JobEstimator"/>) from its input models' rows and configs.</summary>
public sealed class JobPreflight(OptimizerDbContext db, ModelShapeCache shapes, IOptions<OptimizerOptions> options, MethodQueueRoutes routes)
{
    /// <summary>Problem <c>type</c> of a job refused because it cannot fit a worker's memory.</summary>
    public const string TooLargeType = "urn:optimizer:problem:job-too-large";

    public async Task<JobEstimate> EstimateAsync(string tenantId, CreateJobRequest request, ValidatedJob valid, CancellationToken cancellationToken)
    {
        // MWA names its checkpoints in params (IModelReferences) rather than in 'models'.
        var referenced = (valid.Options as Domain.Methods.Merge.IModelReferences)?.ReferencedModels().Select(r => r.ModelId) ?? [];
        var ids = (request.Models?.Select(m => m.ModelId!) ?? [request.ModelId!]).Concat(referenced).Where(id => id is not null).ToList();
        var rows = await db.Models.AsNoTracking()
            .Where(m => m.TenantId == tenantId && ids.Contains(m.Id))
            .Select(m => new { m.Id, m.SizeBytes, m.ParameterCount })
            .ToDictionaryAsync(m => m.Id, cancellationToken);
        var models = new List<ModelShape>();
        // In the request's order: the first model is the one whose widths drive the activations.
        foreach (var id in ids.Where(rows.ContainsKey))
        {
            var row = rows[id];
            models.Add(await shapes.GetAsync($"tenants/{tenantId}/models/{id}/", row.SizeBytes, row.ParameterCount, cancellationToken));
        }
        return JobEstimator.Estimate(valid.Method.Type, valid.Method.Method, routes.QueueFor(valid.Method), valid.Options, valid.Evaluation,
            models, options.Value.EffectiveWorkerMemoryBytes);
    }

    /// <summary>The 422 answer for a job that does not fit, naming both figures.</summary>
    public static ProblemHttpResult TooLarge(JobEstimate estimate) => TypedResults.Problem(
        detail: $"This job needs an estimated {Mib(estimate.PeakMemoryBytes)} MiB of memory at its peak; a worker has "
            + $"{Mib(estimate.WorkerMemoryBytes)} MiB (Optimizer:WorkerMemoryBytes). Nothing was queued. Use a smaller model, fewer "
            + "calibration samples or a shorter seq_len; POST /v1/jobs/estimate shows the figures.",
        statusCode: StatusCodes.Status422UnprocessableEntity, title: "Job too large", type: TooLargeType);

    private static long Mib(long bytes) => bytes / (1024 * 1024);
}
