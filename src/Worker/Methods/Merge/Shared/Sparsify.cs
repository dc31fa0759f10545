using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Merge.Shared;

/// <summary>How DARE rescales the entries it keeps.</summary>
public enum DareRescale
{
    /// <summary>Keep the masked entries as they are.</summary>
    None,
    /// <summary>The paper's: divide by the keep probability, so the expectation equals the original.</summary>
    Expectation,
    /// <summary>mergekit's <c>rescale=true</c>: scale so the masked tensor keeps the original's L1 norm.</summary>
    L1,
}

/// <summary>Task-vector sparsification as mergekit's <c>sparsify.py</c>: TIES magnitude trimming and DARE random drops.</summary>
public static class Sparsify
{
    /// <summary>Norms below this are not rescaled (mergekit's eps).</summary>
    private const double RescaleEpsilon = 1e-7;

    /// <summary>Keeps the <c>⌊density·n⌋</c> largest-|x| entries and zeroes the rest (density ≥ 1 keeps everything).</summary>
    public static Tensor Magnitude(Tensor delta, double density)
    {
        if (density >= 1)
        {
            return delta.alias();
        }
        using var scope = torch.NewDisposeScope();
        var k = (long)(density * delta.numel());
        var mask = torch.zeros(delta.numel(), dtype: delta.dtype);
        if (k > 0)
        {
            var (_, indices) = torch.topk(delta.flatten().abs(), (int)Math.Min(k, int.MaxValue));
            mask.index_fill_(0, indices, 1);
        }
        return (delta * mask.reshape(delta.shape)).MoveToOuterDisposeScope();
    }

    /// <summary>Keeps each entry with probability <paramref name="density"/> (a Bernoulli mask drawn from <paramref name="seed"/>) and rescales.</summary>
    public static Tensor Bernoulli(Tensor delta, double density, DareRescale rescale, ulong seed)
    {
        if (density >= 1)
        {
            return delta.alias();
        }
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(seed);
        var mask = torch.bernoulli(torch.full_like(delta, density), generator);
        return Rescaled(delta, mask, rescale, density).MoveToOuterDisposeScope();
    }

    /// <summary><c>delta ⊙ mask</c>, rescaled as <paramref name="rescale"/> says.</summary>
    public static Tensor Rescaled(Tensor delta, Tensor mask, DareRescale rescale, double density)
    {
        using var scope = torch.NewDisposeScope();
        var masked = delta * mask;
        switch (rescale)
        {
            case DareRescale.Expectation:
                masked.div_(density);
                break;
            case DareRescale.L1:
                var before = delta.abs().sum(type: ScalarType.Float64).item<double>();
                var after = masked.abs().sum(type: ScalarType.Float64).item<double>();
                if (before >= RescaleEpsilon && after >= RescaleEpsilon)
                {
                    masked.mul_(before / after);
                }
                break;
        }
        return masked.MoveToOuterDisposeScope();
    }
}
