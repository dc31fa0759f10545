using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Quantize.Ptqtp;

/// <summary>
/// PTQTP (ALGORITHMS.md 1.7): every row group is approximated by two ternary planes, <c>W ≈ α1·T1 + α2·T2</c>, fitted by
/// alternating closed-form ridge regression for the scales and an exhaustive per-weight trit search; stored five trits a
/// byte (docs/formats/trit-planes.md). Needs no calibration data.
/// </summary>
[Method("quantize", "ptqtp",
    Description = "PTQTP: two ternary trit-planes per weight with group-wise scales (multiplication-free), fitted without calibration data.",
    ReferenceUrl = "https://arxiv.org/abs/2509.16989")]
public sealed record PtqtpOptions : IValidatableObject
{
    [Description("Input channels that share one pair of scales (α1, α2); -1 means one pair per output channel. Must divide every quantized layer's input size.")]
    public int GroupSize { get; init; } = 128;

    [Description("Most alternating iterations per group after the progressive initialisation.")]
    [Range(1, 1000)]
    public int MaxIters { get; init; } = 50;

    [Description("Stop a group once an iteration lowers its squared error by less than this fraction.")]
    [Range(0.0, 1.0)]
    public double Tolerance { get; init; } = 1e-6;

    [Description("Ridge λ added to the 2x2 normal equations of the scales (0 = least squares; a singular system always falls back to one plane).")]
    [Range(0.0, 1e6)]
    public double RidgeLambda { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => GroupSizeRule.Validate(GroupSize);
}
