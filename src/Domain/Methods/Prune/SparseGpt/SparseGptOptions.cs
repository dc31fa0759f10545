using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Prune.SparseGpt;

/// <summary>
/// SparseGPT (ALGORITHMS.md 2.3): GPTQ's OBS loop with "quantize" replaced by "prune and compensate": the mask is chosen
/// per block of columns from w²/[H⁻¹]²_jj and the surviving weights absorb the pruned ones' error.
/// </summary>
[Method("prune", "sparsegpt",
    Description = "SparseGPT: one-shot pruning with second-order (OBS) weight updates from calibration Hessians, layer by layer.",
    ReferenceUrl = "https://arxiv.org/abs/2301.00774")]
public sealed record SparseGptOptions : CalibratedPruneOptions
{
    [Description("Columns per lazy-update block; the unstructured mask is chosen jointly within each block (default 128).")]
    [Range(1, 4096)]
    public int BlockSize { get; init; } = 128;

    [Description("Dampening added to the Hessian diagonal, as a fraction of its mean (default 0.01).")]
    [Range(0.0, 1.0)]
    public double Damp { get; init; } = 0.01;
}
