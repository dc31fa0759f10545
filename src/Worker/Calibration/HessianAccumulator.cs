using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Calibration;

/// <summary>
/// Running mean of <c>2·XᵀY</c> over calibration tokens (ALGORITHMS.md 0.1): with <c>Y = X</c> it is GPTQ's /
/// SparseGPT's Hessian <c>H = (2/N)·XᵀX</c>; with <c>X = X_fp − X_q</c>, <c>Y = X_q</c> it is GPTAQ's <c>dXXT</c>.
/// </summary>
/// <remarks>
/// Rows of the inputs are tokens (<c>[..., features]</c>, flattened to <c>[n, features]</c>). The reference scales by the
/// number of sequences instead of tokens; every consumer is invariant to that constant (dampening is relative to the
/// diagonal mean). Accumulated in float64 by default so that many small batches do not lose precision. The tensor is
/// owned by the accumulator (detached from any dispose scope); dispose the accumulator to free it.
/// </remarks>
public sealed class HessianAccumulator : IDisposable
{
    private readonly Tensor _mean;

    /// <param name="features">Input size of the linear (<c>in</c>).</param>
    /// <param name="dtype">Accumulation dtype: float64 (default) or float32.</param>
    public HessianAccumulator(long features, ScalarType dtype = ScalarType.Float64)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        if (dtype is not (ScalarType.Float64 or ScalarType.Float32))
        {
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "accumulate in float32 or float64.");
        }
        Features = features;
        _mean = torch.zeros([features, features], dtype).DetachFromDisposeScope();
    }

    public long Features { get; }

    /// <summary>Tokens seen so far.</summary>
    public long Tokens { get; private set; }

    /// <summary>The current mean, <c>[features, features]</c>; owned by the accumulator (clone it to keep it).</summary>
    public Tensor Value => _mean;

    /// <summary>Adds the tokens of <paramref name="inputs"/> (<c>[..., features]</c>) to <c>(2/N)·XᵀX</c>.</summary>
    public void Add(Tensor inputs) => Add(inputs, inputs);

    /// <summary>Adds <c>2·leftᵀ·right</c> for the tokens of two same-shaped inputs (<c>[..., features]</c>).</summary>
    /// <exception cref="ArgumentException">The inputs disagree in shape or do not end in <see cref="Features"/>.</exception>
    public void Add(Tensor left, Tensor right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        if (!left.shape.SequenceEqual(right.shape) || left.shape[^1] != Features)
        {
            throw new ArgumentException(
                $"inputs [{string.Join(", ", left.shape)}] and [{string.Join(", ", right.shape)}] must agree and end in {Features}.");
        }
        using var scope = torch.NewDisposeScope();
        var x = left.reshape(-1, Features).to(_mean.dtype);
        var y = ReferenceEquals(left, right) ? x : right.reshape(-1, Features).to(_mean.dtype);
        var count = x.shape[0];
        if (count == 0)
        {
            return;
        }
        // H ← H·n/(n+b) + (2/(n+b))·xᵀy: a running mean that never holds the unscaled sum.
        _mean.mul_((double)Tokens / (Tokens + count));
        Tokens += count;
        _mean.add_(x.t().matmul(y).mul_(2.0 / Tokens));
    }

    public void Dispose() => _mean.Dispose();
}
