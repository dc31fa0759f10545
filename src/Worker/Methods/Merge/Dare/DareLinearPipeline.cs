using Optimizer.Domain.Methods.Merge.Dare;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Merge.Shared;

namespace Optimizer.Worker.Methods.Merge.Dare;

/// <summary>DARE + task arithmetic (ALGORITHMS.md 3.5): seeded random drops, rescale, weighted sum.</summary>
[JobPipeline("merge", "dare_linear")]
public sealed class DareLinearPipeline : IJobPipeline<DareLinearOptions>
{
    public Task<PipelineResult> RunAsync(PipelineContext context, DareLinearOptions options, CancellationToken cancellationToken) =>
        TaskVectorPipeline.RunAsync(context, "dare_linear", DareSettings.From(options, signConsensus: false), cancellationToken);
}
