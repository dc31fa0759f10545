using Optimizer.Kernels.Codecs;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Gptq;

/// <summary>
/// The integer min/max grid of RTN (ALGORITHMS.md 1.1), per output row, in float32 exactly as <see cref="RtnQuantizer"/>
/// computes it (so that GPTQ with an identity Hessian reproduces RTN bit for bit).
/// </summary>
/// <remarks>
/// Symmetric follows <see cref="RtnQuantizer"/>: <c>xmin = −max(|xmin|, xmax)</c> always (the GPTQ reference keeps
/// <c>xmin = 0</c> for an all-non-negative row; our RTN does not, and GPTQ must agree with our RTN).
/// </remarks>
public sealed class IntColumnQuantizer(RtnSpec spec) : IColumnQuantizer
{
    public RtnSpec Spec { get; } = spec;

    public IColumnGrid Fit(Tensor weights)
    {
        using var scope = torch.NewDisposeScope();
        var w = weights.to(ScalarType.Float32);
        var zero = torch.zeros(1, ScalarType.Float32);
        var xmin = torch.minimum(w.amin([1]), zero);
        var xmax = torch.maximum(w.amax([1]), zero);
        if (Spec.Symmetric)
        {
            xmax = torch.maximum(xmin.neg(), xmax);
            xmin = xmax.neg();
        }
        var empty = xmin.eq(0).logical_and(xmax.eq(0));
        xmin = xmin.masked_fill(empty, -1f);
        xmax = xmax.masked_fill(empty, 1f);
        var scale = (xmax - xmin) / Spec.MaxQ;
        var zeros = Spec.Symmetric
            ? torch.full_like(scale, (Spec.MaxQ + 1) / 2)
            : (xmin.neg() / scale).round();
        return new Grid(scale.DetachFromDisposeScope(), zeros.DetachFromDisposeScope(), Spec.MaxQ);
    }

    /// <summary>Scale and zero per output row, <c>[out]</c> float32 each.</summary>
    public sealed class Grid(Tensor scale, Tensor zero, int maxQ) : IColumnGrid
    {
        public Tensor Scale { get; } = scale;
        public Tensor Zero { get; } = zero;

        public Tensor Quantize(Tensor column)
        {
            using var scope = torch.NewDisposeScope();
            return (Scale * (Codes(column) - Zero)).MoveToOuterDisposeScope();
        }

        /// <summary><c>clamp(round(w / s) + z, 0, maxq)</c> as float32.</summary>
        public Tensor Codes(Tensor column)
        {
            using var scope = torch.NewDisposeScope();
            return ((column / Scale).round() + Zero).clamp(0, maxQ).MoveToOuterDisposeScope();
        }

        public void Dispose()
        {
            Scale.Dispose();
            Zero.Dispose();
        }
    }
}
