using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Shared;

namespace Optimizer.Worker.Methods.Quantize.Fp4;

/// <summary>
/// One linear in FP4 as stored (docs/formats/fp4.md): packed E2M1 nibbles, group scales (float16 values, or powers of two
/// under M1/M2), row scales (M2 only, else all 1) and the optional LoRC factors <c>U [out, r]</c>, <c>V [r, in]</c>.
/// </summary>
/// <remarks>Every float here already holds the value the file stores (float16-rounded where stored as float16).</remarks>
public sealed record Fp4Linear(int OutFeatures, int InFeatures, int GroupSize, byte[] Packed, float[] GroupScales, float[] RowScales,
    int LorcRank, float[] LorcU, float[] LorcV) : IDenseLinear
{
    /// <summary>Quantizes a row-major float32 weight by RTN; the LoRC factors fit the error of the FP4 weight as stored.</summary>
    public static Fp4Linear Quantize(float[] weight, int outFeatures, int inFeatures, Fp4Spec spec)
    {
        var groups = new float[outFeatures * Fp4Quantizer.GroupCount(inFeatures, spec.GroupSize)];
        var rows = new float[outFeatures];
        Fp4Quantizer.ComputeScales(weight, outFeatures, inFeatures, spec.GroupSize, spec.Constraint, groups, rows);
        foreach (ref var s in groups.AsSpan())
        {
            s = spec.Stored(s);
        }
        return Encode(weight, weight, groups, rows, outFeatures, inFeatures, spec);
    }

    /// <summary>
    /// Stores <paramref name="values"/> (already on the grid, e.g. GPTQ's rounding) with the given scales; the LoRC
    /// factors fit the error against the original <paramref name="weight"/>.
    /// </summary>
    public static Fp4Linear Encode(float[] weight, float[] values, float[] groupScales, float[] rowScales, int outFeatures, int inFeatures,
        Fp4Spec spec)
    {
        var packed = new byte[outFeatures * inFeatures / 2];
        Fp4Quantizer.Encode(values, groupScales, rowScales, outFeatures, inFeatures, spec.GroupSize, packed);
        var linear = new Fp4Linear(outFeatures, inFeatures, spec.GroupSize, packed, groupScales, rowScales, 0, [], []);
        var rank = Math.Min(spec.LorcRank, Math.Min(outFeatures, inFeatures));
        if (rank == 0)
        {
            return linear;
        }
        var error = linear.Dequantize();
        for (var i = 0; i < error.Length; i++)
        {
            error[i] = weight[i] - error[i];
        }
        var (u, v, _) = LowRank.Factor(error, outFeatures, inFeatures, rank);
        TensorBytes.RoundToHalf(u);
        TensorBytes.RoundToHalf(v);
        return linear with { LorcRank = rank, LorcU = u, LorcV = v };
    }

    /// <summary>The dense float32 weight: FP4 values times their scales, plus <c>U·V</c> when LoRC is on.</summary>
    public float[] Dequantize()
    {
        var dense = new float[OutFeatures * InFeatures];
        Fp4Quantizer.Dequantize(Packed, GroupScales, RowScales, OutFeatures, InFeatures, GroupSize, dense);
        if (LorcRank > 0)
        {
            LowRank.AddProduct(LorcU, LorcV, OutFeatures, LorcRank, InFeatures, dense);
        }
        return dense;
    }
}
