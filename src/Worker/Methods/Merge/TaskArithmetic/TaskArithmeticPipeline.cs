using Optimizer.Domain.Methods.Merge.TaskArithmetic;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Merge.Shared;

namespace Optimizer.Worker.Methods.Merge.TaskArithmetic;

/// <summary>Task arithmetic (ALGORITHMS.md 3.3): <c>θ₀ + λ·Σ w_i (θ_i − θ₀)</c>, streamed tensor by tensor.</summary>
[JobPipeline("merge", "task_arithmetic")]
public sealed class TaskArithmeticPipeline : IJobPipeline<TaskArithmeticOptions>
{
    public Task<PipelineResult> RunAsync(PipelineContext context, TaskArithmeticOptions options, CancellationToken cancellationToken) =>
        TaskVectorPipeline.RunAsync(context, "task_arithmetic", Settings(options), cancellationToken);

    public static TaskVectorSettings Settings(TaskArithmeticOptions options) =>
        new(Sparsification.None, SignConsensus: false, 1.0, DareRescale.None, 0, options.Normalize, options.Lambda);
}
