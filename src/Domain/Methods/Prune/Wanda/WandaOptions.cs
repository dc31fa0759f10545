namespace Optimizer.Domain.Methods.Prune.Wanda;

/// <summary>Wanda (ALGORITHMS.md 2.2): score |W_ij|·||X_j||₂ from calibration activations, compared per output row.</summary>
[Method("prune", "wanda",
    Description = "Wanda: prune by |weight| x input-activation norm, compared within each output row; calibrated layer by layer.",
    ReferenceUrl = "https://arxiv.org/abs/2306.11695")]
public sealed record WandaOptions : CalibratedPruneOptions;
