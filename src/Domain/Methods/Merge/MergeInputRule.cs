namespace Optimizer.Domain.Methods.Merge;

/// <summary>Whether a merge method takes <c>base_model_id</c>.</summary>
public enum MergeBase
{
    /// <summary>The method has no base model; naming one is an error.</summary>
    Forbidden,
    /// <summary>The method needs one (task vectors are taken against it).</summary>
    Required,
}

/// <summary>How many entries a merge method takes in the job's <c>models</c> list, and whether it needs a base.</summary>
/// <param name="MinModels">Fewest <c>models</c> entries (0: the method names its models in its params).</param>
/// <param name="MaxModels">Most <c>models</c> entries.</param>
/// <param name="Base">Whether <c>base_model_id</c> is required or forbidden.</param>
/// <param name="Describe">The rule in words, for the 400 answer.</param>
public sealed record MergeInputRule(int MinModels, int MaxModels, MergeBase Base, string Describe);

/// <summary>
/// Implemented by every merge options record: the Api checks the job's <c>models</c> and <c>base_model_id</c>
/// against <see cref="Inputs"/> before anything is queued.
/// </summary>
public interface IMergeOptions
{
    MergeInputRule Inputs { get; }
}

/// <summary>
/// Options that name models inside their params (e.g. MWA's checkpoints): the Api checks that each exists for the
/// caller's tenant, and compares their tensors like a merge's <c>models</c>.
/// </summary>
public interface IModelReferences
{
    /// <summary>Each referenced model with the body field that names it (<c>params.checkpoints[0].model_id</c>).</summary>
    IEnumerable<(string Field, string ModelId)> ReferencedModels();
}
