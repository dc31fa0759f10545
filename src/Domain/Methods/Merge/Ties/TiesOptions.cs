using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Merge.Ties;

/// <summary>TIES (ALGORITHMS.md 3.4): trim each task vector to its top-density magnitudes, elect signs by mass, disjoint mean.</summary>
[Method("merge", "ties",
    Description = "TIES-merging: keep each task vector's largest-magnitude fraction (density), elect each coordinate's sign by weighted sum, average the agreeing entries.",
    ReferenceUrl = "https://arxiv.org/abs/2306.01708")]
public sealed record TiesOptions : TaskVectorOptions
{
    [Description("Fraction of each task vector's entries kept, by magnitude, per tensor (the paper's k = 20%; 1 keeps all).")]
    [Range(0.0, 1.0)]
    public double Density { get; init; } = 0.2;

    [Description("Divide by the weight sum of the models agreeing with the elected sign (the disjoint mean; mergekit default for ties: true).")]
    public override bool Normalize { get; init; } = true;
}
