namespace Optimizer.Worker.Execution;

/// <summary>
/// Registers a class implementing <see cref="IJobPipeline{TOptions}"/> as the pipeline of one method
/// (<c>type</c> + <c>method</c> of a job). The <see cref="PipelineRegistry"/> finds these at start-up.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class JobPipelineAttribute(string type, string method) : Attribute
{
    public string Type { get; } = type;
    public string Method { get; } = method;
}
