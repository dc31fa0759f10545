namespace Optimizer.Worker.Execution;

/// <summary>One method's implementation: turns source models into an output model (and/or a report).</summary>
/// <typeparam name="TOptions">The method's options record from <c>Optimizer.Domain.Methods</c>.</typeparam>
/// <remarks>
/// Implementers must: write output files only under <see cref="PipelineContext.OutputDir"/> (the runner uploads
/// and registers them), check the cancellation token between layers or steps, report progress through
/// <see cref="PipelineContext.Progress"/>, and throw <see cref="JobFailedException"/> with a stable code for failures
/// the user caused (a model the method cannot handle). Pipelines are resolved from a DI scope per job.
/// </remarks>
public interface IJobPipeline<in TOptions>
    where TOptions : class
{
    Task<PipelineResult> RunAsync(PipelineContext context, TOptions options, CancellationToken cancellationToken);
}
