using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Kernels.Codecs;

namespace Optimizer.Worker.Methods.Quantize.Fp4;

/// <summary>The FP4 options resolved to the codec's terms.</summary>
public sealed record Fp4Spec(int GroupSize, Fp4ScaleConstraint Constraint, int LorcRank)
{
    public static Fp4Spec From(Fp4Options options) => new(options.GroupSize, ParseConstraint(options.ScaleConstraint), options.LorcRank);

    /// <summary>Power-of-two group scales are stored as E8M0 bytes, real ones as float16.</summary>
    public bool Pow2Scales => Constraint != Fp4ScaleConstraint.None;

    /// <summary>
    /// A group scale as the file holds it: float16 without a constraint (a scale below float16's range keeps its smallest
    /// value), exact powers of two otherwise. Weights are quantized against the stored scale.
    /// </summary>
    public float Stored(float groupScale) => Pow2Scales ? groupScale : Math.Max((float)(Half)groupScale, (float)Half.Epsilon);

    public static Fp4ScaleConstraint ParseConstraint(string? name) => name switch
    {
        "pow2" => Fp4ScaleConstraint.Pow2,
        "row_pow2" => Fp4ScaleConstraint.RowPow2,
        "none" or null => Fp4ScaleConstraint.None,
        _ => throw new InvalidDataException($"unknown FP4 scale constraint '{name}'"),
    };

    public static string ConstraintName(Fp4ScaleConstraint constraint) => constraint switch
    {
        Fp4ScaleConstraint.Pow2 => "pow2",
        Fp4ScaleConstraint.RowPow2 => "row_pow2",
        _ => "none",
    };
}
