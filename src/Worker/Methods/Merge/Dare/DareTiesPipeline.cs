using Optimizer.Domain.Methods.Merge.Dare;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Merge.Shared;

namespace Optimizer.Worker.Methods.Merge.Dare;

/// <summary>DARE + TIES (ALGORITHMS.md 3.5): seeded random drops, rescale, sign election, disjoint sum.</summary>
[JobPipeline("merge", "dare_ties")]
public sealed class DareTiesPipeline : IJobPipeline<DareTiesOptions>
{
    public Task<PipelineResult> RunAsync(PipelineContext context, DareTiesOptions options, CancellationToken cancellationToken) =>
        TaskVectorPipeline.RunAsync(context, "dare_ties", DareSettings.From(options, signConsensus: true), cancellationToken);
}
