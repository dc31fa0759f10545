using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.FineTune.Bone;

/// <summary>Bone / MiSS (ALGORITHMS.md 4.3): a trainable block shared across the weight's column chunks, zero at init.</summary>
[Method("finetune", "bone",
    Description = "Bone (PEFT MiSS): block-wise update of each target weight; \"balance\" adds one r x out block to every column chunk, \"bat\" is the weight-guided block-affine form W(I+B)+B.",
    ReferenceUrl = "https://arxiv.org/abs/2409.15371")]
public sealed record BoneOptions : FineTuneOptions
{
    public const string Balance = "balance";
    public const string Bat = "bat";

    [Description("\"balance\" (PEFT MiSS default: delta W[o, c·r+j] = B[j, o]) or \"bat\" (block-affine W'_ij = W_ij + W_ij·B_i + B_i; in and out must be multiples of r).")]
    [AllowedValues(Balance, Bat)]
    public string Mode { get; init; } = Balance;

    [Description("Block size r (the trainable parameters per target are r x out).")]
    [Range(1, 4096)]
    public int Rank { get; init; } = 64;
}
