using Optimizer.Domain.Methods.Merge.Ties;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Merge.Shared;

namespace Optimizer.Worker.Methods.Merge.Ties;

/// <summary>TIES (ALGORITHMS.md 3.4): magnitude trim, sign election by weighted sum, disjoint mean, streamed tensor by tensor.</summary>
[JobPipeline("merge", "ties")]
public sealed class TiesPipeline : IJobPipeline<TiesOptions>
{
    public Task<PipelineResult> RunAsync(PipelineContext context, TiesOptions options, CancellationToken cancellationToken) =>
        TaskVectorPipeline.RunAsync(context, "ties", Settings(options), cancellationToken);

    public static TaskVectorSettings Settings(TiesOptions options) =>
        new(Sparsification.Magnitude, SignConsensus: true, options.Density, DareRescale.None, 0, options.Normalize, options.Lambda);
}
