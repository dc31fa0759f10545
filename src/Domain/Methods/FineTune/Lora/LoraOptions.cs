using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.FineTune.Lora;

/// <summary>LoRA (ALGORITHMS.md 4.1): <c>y = W x + s·B(A(dropout(x)))</c> with <c>s = alpha/r</c> (or <c>alpha/√r</c> with rsLoRA).</summary>
[Method("finetune", "lora",
    Description = "LoRA: train a low-rank update B·A beside each frozen target projection (B starts at zero); optional rsLoRA scaling alpha/sqrt(r).",
    ReferenceUrl = "https://arxiv.org/abs/2106.09685")]
public sealed record LoraOptions : FineTuneOptions
{
    [Description("Rank r of the update.")]
    [Range(1, 1024)]
    public int Rank { get; init; } = 8;

    [Description("Scale numerator: the update is multiplied by alpha/r (alpha/sqrt(r) with use_rslora).")]
    [Range(0.0001, 100000.0)]
    public double Alpha { get; init; } = 8;

    [Description("rsLoRA: scale by alpha/sqrt(r) instead of alpha/r, so higher ranks keep learning.")]
    public bool UseRslora { get; init; }
}
