namespace Optimizer.Domain.Methods;

/// <summary>
/// Marks an options record as the params of one method (<c>type</c> + <c>method</c> in a job).
/// The catalog is built from these attributes, so a new method is one options record here
/// plus one pipeline folder in the Worker.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class MethodAttribute(string type, string name) : Attribute
{
    public string Type { get; } = type;
    public string Name { get; } = name;
    public required string Description { get; init; }
    public string? ReferenceUrl { get; init; }
    /// <summary>Hangfire queue the job runs on (<c>cpu</c> or <c>gpu</c>).</summary>
    public string Queue { get; init; } = "cpu";
}
