using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Merge.Slerp;

/// <summary>Spherical linear interpolation of two models (ALGORITHMS.md 3.2), per tensor.</summary>
[Method("merge", "slerp",
    Description = "SLERP between exactly two models, tensor by tensor (lerp where they are nearly parallel); t = 0 gives models[0], t = 1 models[1].",
    ReferenceUrl = "https://github.com/arcee-ai/mergekit")]
public sealed record SlerpOptions : IMergeOptions, IValidatableObject
{
    [Description("Interpolation factor from models[0] (t = 0, mergekit's base model) to models[1] (t = 1).")]
    [Range(0.0, 1.0)]
    public double T { get; init; } = 0.5;

    [Description("Optional per-layer gradient (mergekit style): values spread evenly over the decoder layers and interpolated linearly between them; overrides t for tensors inside layers.")]
    public IReadOnlyList<double>? TGradient { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public MergeInputRule Inputs => new(2, 2, MergeBase.Forbidden, "slerp takes exactly two 'models' and no base_model_id");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TGradient is { } gradient && (gradient.Count == 0 || gradient.Any(t => !(t >= 0 && t <= 1))))
        {
            yield return new ValidationResult("t_gradient needs at least one value, each between 0 and 1.", [nameof(TGradient)]);
        }
    }
}
