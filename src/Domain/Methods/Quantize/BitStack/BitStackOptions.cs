using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Quantize.BitStack;

/// <summary>
/// BitStack (ALGORITHMS.md 1.8): each decoder linear becomes a stack of residual blocks, each a packed sign matrix times
/// a rank-k magnitude approximation; blocks are ordered by importance so a model can be loaded to any memory budget
/// (docs/formats/bitstack.md; <c>GET /v1/models/{id}?budget_mb=</c>, evaluate param <c>budget_mb</c>).
/// </summary>
[Method("quantize", "bitstack",
    Description = "BitStack: sign + low-rank residual blocks per weight, ordered by importance, loadable to any memory budget in MB.",
    ReferenceUrl = "https://arxiv.org/abs/2410.23918")]
public sealed record BitStackOptions
{
    [Description("Residual blocks per weight matrix (niter); each adds about 1 bit per weight.")]
    [Range(1, 64)]
    public int Blocks { get; init; } = 16;

    [Description("Rank k of each block's magnitude approximation (stored as two float16 factors).")]
    [Range(1, 1024)]
    public int Rank { get; init; } = 16;
}
