using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Monarch;

/// <summary>
/// A bias-free linear <c>y = M x</c> whose <c>M [out, in]</c> is a Monarch matrix (ALGORITHMS.md 2.6, HazyResearch/fly):
/// <c>M[p·K + k, r·b + s] = L_k[p, r] · R_r[k, s]</c> with <c>in = nb·b</c>, <c>out = P·K</c>, <c>nb = K</c> blocks.
/// </summary>
/// <remarks>
/// Parameters (the names the safetensors file uses, docs/formats/monarch.md): <c>blkdiag1</c> = R, <c>[nb, K, b]</c>
/// (block r maps input block r to K outputs); <c>blkdiag2</c> = L, <c>[K, P, nb]</c> (block k maps the k-th output of
/// every first-factor block to P outputs). Costs <c>nb·(in + out)</c> multiply-adds per token instead of <c>in·out</c>.
/// </remarks>
public sealed class MonarchLinear : nn.Module<Tensor, Tensor>
{
    public MonarchLinear(long inFeatures, long outFeatures, int blocks) : base(nameof(MonarchLinear))
    {
        if (blocks < 1 || inFeatures % blocks != 0 || outFeatures % blocks != 0)
        {
            throw new ArgumentException($"a Monarch [{outFeatures}, {inFeatures}] needs both sizes to be multiples of {blocks} blocks.");
        }
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Blocks = blocks;
        Blkdiag1 = new Parameter(torch.zeros(blocks, blocks, inFeatures / blocks));
        Blkdiag2 = new Parameter(torch.zeros(blocks, outFeatures / blocks, blocks));
        register_parameter("blkdiag1", Blkdiag1);
        register_parameter("blkdiag2", Blkdiag2);
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }
    public int Blocks { get; }
    /// <summary>R, the first factor: <c>[nb, K, in / nb]</c>.</summary>
    public Parameter Blkdiag1 { get; }
    /// <summary>L, the second factor: <c>[K, out / K, nb]</c>.</summary>
    public Parameter Blkdiag2 { get; }

    /// <param name="input"><c>[..., in]</c>.</param>
    /// <returns><c>[..., out]</c>.</returns>
    public override Tensor forward(Tensor input) => Multiply(input, Blkdiag1, Blkdiag2);

    /// <summary>The factored product for given factors (used by the projection's tests and the module).</summary>
    public static Tensor Multiply(Tensor input, Tensor blkdiag1, Tensor blkdiag2)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = torch.NewDisposeScope();
        var blocks = blkdiag1.shape[0];
        var inner = blkdiag1.shape[1];
        var blockIn = blkdiag1.shape[2];
        var blockOut = blkdiag2.shape[1];
        var leading = input.shape[..^1];
        var x = input.reshape(-1, blocks, blockIn).transpose(0, 1);               // [nb, B, b]
        var middle = torch.bmm(x, blkdiag1.transpose(1, 2));                       // [nb, B, K]: block r, output k
        var permuted = middle.permute(2, 1, 0);                                     // [K, B, nb]: the fixed permutation
        var output = torch.bmm(permuted, blkdiag2.transpose(1, 2));                // [K, B, P]
        var flat = output.permute(1, 2, 0).reshape(-1, blockOut * inner);          // row index p·K + k
        return flat.reshape([.. leading, blockOut * inner]).MoveToOuterDisposeScope();
    }
}
