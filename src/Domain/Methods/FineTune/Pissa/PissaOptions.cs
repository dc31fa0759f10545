using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.FineTune.Pissa;

/// <summary>PiSSA (ALGORITHMS.md 4.2): LoRA initialised from the top-r singular triplets of W; the residual stays frozen.</summary>
[Method("finetune", "pissa",
    Description = "PiSSA: initialise the LoRA factors from the principal singular components of each target weight and train them; the residual weight stays frozen.",
    ReferenceUrl = "https://arxiv.org/abs/2404.02948")]
public sealed record PissaOptions : FineTuneOptions
{
    [Description("Rank r: the number of principal singular components moved into the adapter.")]
    [Range(1, 1024)]
    public int Rank { get; init; } = 8;

    [Description("Scale numerator: the adapter's product is multiplied by alpha/r (the init divides the singular values by it, so the model is unchanged).")]
    [Range(0.0001, 100000.0)]
    public double Alpha { get; init; } = 8;

    [Description("0: exact SVD. k > 0: randomised svd_lowrank with k power iterations (PEFT's pissa_niter_k), faster on large weights.")]
    [Range(0, 64)]
    public int Niter { get; init; }
}
