using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Gptq;
using TorchSharp;
using E2M1 = Optimizer.Kernels.Codecs.Fp4;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Fp4;

/// <summary>
/// The FP4 E2M1 grid for GPTQ rounding (ALGORITHMS.md 1.6 "quantized through GPTQ"): each group's scale follows the
/// fp4 method's rule and constraint (<see cref="Fp4Quantizer.GroupScale"/>, float16-rounded when stored as float16), and
/// a column rounds to the nearest E2M1 value times its row's scale — the same arithmetic as RTN's
/// <see cref="Fp4Quantizer.Encode"/>, so GPTQ with an identity Hessian reproduces RTN bit for bit.
/// </summary>
/// <remarks>
/// One instance per linear: M2's row scales are <c>absmax(row) / 6</c> of the weight it is created for (the largest of
/// that row's group scales, whatever the grouping).
/// </remarks>
public sealed class Fp4ColumnQuantizer : IColumnQuantizer
{
    private readonly Fp4Spec _spec;

    /// <param name="weight">The linear's weight <c>[out, in]</c>, as the solver will see it.</param>
    /// <param name="spec">Group size, scale constraint.</param>
    public Fp4ColumnQuantizer(Tensor weight, Fp4Spec spec)
    {
        ArgumentNullException.ThrowIfNull(weight);
        _spec = spec;
        var rows = (int)weight.shape[0];
        RowScales = new float[rows];
        var absMax = RowAbsMax(weight);
        for (var r = 0; r < rows; r++)
        {
            RowScales[r] = spec.Constraint == Fp4ScaleConstraint.RowPow2 ? Fp4Quantizer.RowScale(absMax[r]) : 1f;
        }
    }

    /// <summary>The row scale of each output row (all 1 unless the constraint is M2).</summary>
    public float[] RowScales { get; }

    public IColumnGrid Fit(Tensor weights)
    {
        var absMax = RowAbsMax(weights);
        var groupScales = new float[absMax.Length];
        for (var r = 0; r < absMax.Length; r++)
        {
            groupScales[r] = _spec.Stored(Fp4Quantizer.GroupScale(absMax[r], _spec.Constraint, RowScales[r]));
        }
        return new Grid(groupScales, RowScales);
    }

    private static float[] RowAbsMax(Tensor weights)
    {
        using var scope = torch.NewDisposeScope();
        // The maximum is exact in any order, so this matches the codec's scalar loop.
        return weights.to(ScalarType.Float32).abs().amax([1]).contiguous().data<float>().ToArray();
    }

    /// <summary>One group's scale per row, as stored, and the linear's row scales.</summary>
    public sealed class Grid(float[] groupScales, float[] rowScales) : IColumnGrid
    {
        public float[] GroupScales { get; } = groupScales;

        public Tensor Quantize(Tensor column)
        {
            var values = column.to(ScalarType.Float32).contiguous().data<float>().ToArray();
            for (var r = 0; r < values.Length; r++)
            {
                var scale = rowScales[r] * GroupScales[r];
                values[r] = E2M1.Decode(E2M1.Encode(values[r] / scale)) * scale;
            }
            return torch.tensor(values, ScalarType.Float32);
        }

        public void Dispose()
        {
        }
    }
}
