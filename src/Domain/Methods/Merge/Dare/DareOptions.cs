using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Merge.Dare;

/// <summary>
/// DARE (ALGORITHMS.md 3.5): drop each task-vector entry with probability <c>p = 1 − density</c> (a seeded Bernoulli
/// mask per model and tensor) and rescale the survivors, then combine linearly or with TIES sign election.
/// </summary>
public abstract record DareOptions : TaskVectorOptions, IValidatableObject
{
    public const string RescaleExpectation = "expectation";
    public const string RescaleL1 = "l1";
    public const string RescaleNone = "none";

    [Description("Probability of KEEPING each task-vector entry (mergekit's density; the drop rate p is 1 - density).")]
    [Range(0.0, 1.0)]
    public double Density { get; init; } = 0.5;

    [Description("Alternative to density: the drop rate p (e.g. 0.9); density = 1 - p. Give one of the two.")]
    [Range(0.0, 1.0)]
    public double? DropRate { get; init; }

    [Description("\"l1\" (mergekit's rescale=true: the masked vector keeps the L1 norm of the original), \"expectation\" (the paper: divide by 1 - p) or \"none\".")]
    [AllowedValues(RescaleL1, RescaleExpectation, RescaleNone)]
    public string Rescale { get; init; } = RescaleL1;

    [Description("Seed of the Bernoulli masks; each model and tensor draws its own stream from it, so a merge is reproducible.")]
    public long Seed { get; init; }

    [Description("Divide the mixed task vector by the (elected) weight sum (mergekit default for DARE: false).")]
    public override bool Normalize { get; init; }

    /// <summary>The keep probability in effect: <c>1 − drop_rate</c> when a drop rate is given, else <see cref="Density"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double KeepProbability => DropRate is { } p ? 1.0 - p : Density;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DropRate is not null && Density != 0.5)
        {
            yield return new ValidationResult("Give density or drop_rate, not both.", [nameof(DropRate)]);
        }
        if (KeepProbability <= 0)
        {
            yield return new ValidationResult("Nothing would be kept: density must be above 0 (drop_rate below 1).", [nameof(Density)]);
        }
    }
}

/// <summary>DARE masks combined by task arithmetic.</summary>
[Method("merge", "dare_linear",
    Description = "DARE + task arithmetic: randomly drop task-vector entries (seeded), rescale the rest, add the weighted sum to the base.",
    ReferenceUrl = "https://arxiv.org/abs/2311.03099")]
public sealed record DareLinearOptions : DareOptions;

/// <summary>DARE masks combined by TIES sign election and disjoint mean.</summary>
[Method("merge", "dare_ties",
    Description = "DARE + TIES: randomly drop task-vector entries (seeded), rescale the rest, elect signs by weighted sum and merge the agreeing entries.",
    ReferenceUrl = "https://arxiv.org/abs/2311.03099")]
public sealed record DareTiesOptions : DareOptions;
