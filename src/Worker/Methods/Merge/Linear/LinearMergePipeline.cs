using Optimizer.Domain.Methods.Merge.Linear;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Merge.Shared;

namespace Optimizer.Worker.Methods.Merge.Linear;

/// <summary>Linear merge / model soup (ALGORITHMS.md 3.1), streamed tensor by tensor.</summary>
[JobPipeline("merge", "linear")]
public sealed class LinearMergePipeline : IJobPipeline<LinearMergeOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, LinearMergeOptions options, CancellationToken cancellationToken)
    {
        var inputs = await MergeInputs.ResolveAsync(context, cancellationToken);
        if (options.Normalize && Math.Abs(inputs.Models.Sum(m => m.Weight)) < 1e-12)
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams, "The weights sum to zero; a normalised linear merge is undefined.");
        }
        using var stream = MergeStream.Open(inputs);
        return await stream.WriteAsync(context,
            new MergeWriteSpec("linear", t => LinearMerge.Combine(t.All, t.Weights, options.Normalize)), cancellationToken);
    }
}
