using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Merge;

/// <summary>
/// Per-tensor parameters (mergekit's filtered parameters): for tensors whose name contains <see cref="Filter"/>, the
/// given values replace the job-wide ones. The first matching override applies.
/// </summary>
public sealed record TensorOverride
{
    [Description("Substring of the tensor name, e.g. \"self_attn\", \"mlp\" or \"layers.0.\".")]
    public string Filter { get; init; } = "";

    [Description("Per-model weights for these tensors, one per entry of 'models' (replaces models[].weight).")]
    public IReadOnlyList<double>? Weights { get; init; }

    [Description("Density for these tensors (ties, dare_*).")]
    [Range(0.0, 1.0)]
    public double? Density { get; init; }

    [Description("Interpolation factor for these tensors (slerp).")]
    [Range(0.0, 1.0)]
    public double? T { get; init; }
}

/// <summary>Merge options that take per-tensor <see cref="TensorOverride"/>s.</summary>
public interface ITensorOverrides
{
    IReadOnlyList<TensorOverride>? Overrides { get; }
}

/// <summary>Shared checks of <see cref="TensorOverride"/> lists.</summary>
public static class TensorOverrides
{
    /// <summary>The first override whose filter the tensor name contains, or null.</summary>
    public static TensorOverride? Match(IReadOnlyList<TensorOverride>? overrides, string tensorName) =>
        overrides?.FirstOrDefault(o => tensorName.Contains(o.Filter, StringComparison.Ordinal));

    public static IEnumerable<ValidationResult> Validate(IReadOnlyList<TensorOverride>? overrides, string member)
    {
        for (var i = 0; i < (overrides?.Count ?? 0); i++)
        {
            var item = overrides![i];
            if (string.IsNullOrEmpty(item.Filter))
            {
                yield return new ValidationResult($"overrides[{i}].filter must name part of a tensor name.", [member]);
            }
            if (item.Weights is { } weights && (weights.Count == 0 || weights.Any(w => !double.IsFinite(w))))
            {
                yield return new ValidationResult($"overrides[{i}].weights must be finite numbers, one per model.", [member]);
            }
            if (item.Density is { } density && !(density >= 0 && density <= 1))
            {
                yield return new ValidationResult($"overrides[{i}].density must be between 0 and 1.", [member]);
            }
            if (item.T is { } t && !(t >= 0 && t <= 1))
            {
                yield return new ValidationResult($"overrides[{i}].t must be between 0 and 1.", [member]);
            }
        }
    }
}
