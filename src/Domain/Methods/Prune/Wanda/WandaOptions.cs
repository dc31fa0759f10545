using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Prune.Wanda;

/// <summary>Wanda (ALGORITHMS.md 2.2): score |W_ij|·||X_j||₂ from calibration activations, compared per output row.</summary>
[Method("prune", "wanda",
    Description = "Wanda: prune by |weight| x input-activation norm, compared within each output row; calibrated layer by layer.",
    ReferenceUrl = "https://arxiv.org/abs/2306.11695")]
public sealed record WandaOptions : PruneOptions
{
    [Description("Calibration windows taken from the job's calibration dataset (Wanda's default 128).")]
    [Range(1, 1024)]
    public int CalibrationSamples { get; init; } = 128;

    [Description("Tokens per calibration window; capped at the model's max_position_embeddings.")]
    [Range(16, 8192)]
    public int SeqLen { get; init; } = 2048;
}
