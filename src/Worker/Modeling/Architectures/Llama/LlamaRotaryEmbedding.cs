using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Llama;

/// <summary>
/// Rotary position embeddings with the Hugging Face "rotate_half" layout: frequencies
/// <c>theta^(-2i/d)</c>, the angle table duplicated across both halves of the head dimension.
/// </summary>
public static class LlamaRotaryEmbedding
{
    /// <summary>cos and sin tables of shape [T, headDim] for positions 0..T-1.</summary>
    public static (Tensor Cos, Tensor Sin) Compute(long sequenceLength, long headDim, double theta, Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        var exponents = torch.arange(0, headDim, 2, dtype: ScalarType.Int64, device: device).to(ScalarType.Float32) / headDim;
        var inverseFrequencies = 1.0f / torch.pow(theta, exponents);
        var positions = torch.arange(sequenceLength, dtype: ScalarType.Float32, device: device);
        var angles = torch.outer(positions, inverseFrequencies);
        var table = torch.cat([angles, angles], dim: -1);
        return (table.cos().MoveToOuterDisposeScope(), table.sin().MoveToOuterDisposeScope());
    }

    /// <summary>Rotates <paramref name="x"/> [B, H, T, D] by the tables from <see cref="Compute"/>.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        var half = x.shape[^1] / 2;
        var first = x.narrow(-1, 0, half);
        var second = x.narrow(-1, half, half);
        var rotated = torch.cat([-second, first], dim: -1);
        return (x * cos + rotated * sin).MoveToOuterDisposeScope();
    }
}
