using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Optimizer.Domain.Methods.Prune;

/// <summary>
/// The options every unstructured / N:M pruning method shares (ALGORITHMS.md Part A prune rows, Part C §2).
/// Each method is a parameterised registration of one pipeline: a sealed record deriving from this one.
/// </summary>
/// <remarks>
/// Convention for <see cref="Pattern"/> <c>"N:M"</c>: at most N NON-ZEROS are kept in every group of M consecutive
/// input columns of a row (the hardware "2:4 sparsity" reading); the M − N lowest-scoring weights of the group are
/// zeroed and the sparsity is 1 − N/M. For 2:4 and 4:8 this is the same mask as Wanda's repo, which zeroes N of M.
/// </remarks>
public abstract record PruneOptions : IValidatableObject
{
    public const string Unstructured = "unstructured";
    public const string UniformAllocation = "uniform";
    public const string FarmsAllocation = "farms";
    public const string DenseLayout = "dense";
    public const string CompactLayout = "compact";
    public const string BothLayouts = "both";

    [Description("Fraction of each pruned linear's weights set to zero (0-0.99). Ignored for N:M patterns, whose sparsity is 1 - N/M.")]
    [Range(0.0, 0.99)]
    public double Sparsity { get; init; } = 0.5;

    [Description("\"unstructured\", or \"N:M\" (e.g. \"2:4\", \"4:8\"): keep at most N non-zeros in every M consecutive input weights of a row.")]
    public string Pattern { get; init; } = Unstructured;

    [Description("How the target sparsity is spread over layers: \"uniform\" (same sparsity everywhere) or \"farms\" (per-layer sparsity from each layer's heavy-tail ESD alpha, FARMS + AlphaPruning; unstructured patterns only).")]
    public string Allocation { get; init; } = UniformAllocation;

    [Description("FARMS only: per-layer sparsities span target x [1 - epsilon, 1 + epsilon] before rescaling to the target (AlphaPruning's epsilon).")]
    [Range(0.0, 0.99)]
    public double Epsilon { get; init; } = 0.3;

    [Description("N:M patterns: \"both\" writes the dense weights with zeros (Hugging Face layout) and the compact layout beside them (values + packed in-group indices, docs/formats/n-m-sparse.md); \"dense\" or \"compact\" writes only one. Unstructured outputs are always dense.")]
    public string Layout { get; init; } = BothLayouts;

    /// <summary>The sparsity the pattern produces: <see cref="Sparsity"/>, or 1 − N/M for N:M.</summary>
    public double TargetSparsity => TryParseNm(Pattern, out var n, out var m) ? 1.0 - (double)n / m : Sparsity;

    /// <summary>Parses <c>"N:M"</c> with 1 ≤ N &lt; M ≤ 64; false for anything else (including <c>unstructured</c>).</summary>
    public static bool TryParseNm(string? pattern, out int n, out int m)
    {
        n = 0;
        m = 0;
        var parts = pattern?.Split(':');
        if (parts is not { Length: 2 }
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var keep)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var group)
            || keep < 1 || keep >= group || group > 64)
        {
            return false;
        }
        n = keep;
        m = group;
        return true;
    }

    public virtual IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Pattern != Unstructured && !TryParseNm(Pattern, out _, out _))
        {
            yield return new ValidationResult(
                "pattern must be \"unstructured\" or \"N:M\" with integers 1 <= N < M <= 64 (e.g. \"2:4\").", [nameof(Pattern)]);
        }
        if (Layout is not (DenseLayout or CompactLayout or BothLayouts))
        {
            yield return new ValidationResult("layout must be \"dense\", \"compact\" or \"both\".", [nameof(Layout)]);
        }
        else if (Layout == CompactLayout && !TryParseNm(Pattern, out _, out _))
        {
            yield return new ValidationResult("layout \"compact\" needs an N:M pattern; unstructured outputs are dense.", [nameof(Layout)]);
        }
        if (Allocation != UniformAllocation && Allocation != FarmsAllocation)
        {
            yield return new ValidationResult("allocation must be \"uniform\" or \"farms\".", [nameof(Allocation)]);
        }
        else if (Allocation == FarmsAllocation && Pattern != Unstructured)
        {
            // N:M fixes every layer's sparsity at 1 - N/M: there is nothing to allocate.
            yield return new ValidationResult(
                "allocation \"farms\" needs pattern \"unstructured\": an N:M pattern fixes every layer's sparsity at 1 - N/M.", [nameof(Allocation)]);
        }
    }
}
