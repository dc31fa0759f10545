using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Awq;

/// <summary>
/// AWQ's group-wise asymmetric round-to-nearest (<c>pseudo_quantize_tensor</c>, ALGORITHMS.md 1.1 "AWQ" variant): no
/// zero-forcing, <c>s = clamp(max − min, 1e−5) / maxq</c>, <c>z = clamp(−round(min / s), 0, maxq)</c>.
/// </summary>
/// <param name="Bits">Code width.</param>
/// <param name="GroupSize">Input channels per group; -1 = the whole row.</param>
public sealed record AwqQuantizer(int Bits, int GroupSize)
{
    public int MaxQ => (1 << Bits) - 1;

    /// <summary>The dequantized <paramref name="weight"/> <c>[out, in]</c> (a new float32 tensor).</summary>
    public Tensor Quantize(Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        var (codes, scales, zeros) = Encode(weight);
        return ((codes - zeros) * scales).reshape(weight.shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Codes <c>[out·groups, g]</c>, scales and zeros <c>[out·groups, 1]</c> (float32; row <c>o·groups + k</c> is group k of row o).
    /// </summary>
    public (Tensor Codes, Tensor Scales, Tensor Zeros) Encode(Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        var size = GroupSize == -1 ? weight.shape[1] : GroupSize;
        var w = weight.to(ScalarType.Float32).reshape(-1, size);
        var max = w.amax([1], keepdim: true);
        var min = w.amin([1], keepdim: true);
        var scales = (max - min).clamp_min(1e-5) / MaxQ;
        var zeros = (min / scales).round().neg().clamp(0, MaxQ);
        var codes = ((w / scales).round() + zeros).clamp(0, MaxQ);
        return (codes.MoveToOuterDisposeScope(), scales.MoveToOuterDisposeScope(), zeros.MoveToOuterDisposeScope());
    }
}
