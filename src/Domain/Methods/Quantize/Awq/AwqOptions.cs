using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Quantize.Awq;

/// <summary>AWQ (ALGORITHMS.md 1.5): activation-aware scales folded into the previous op, clip search, then group-wise RTN.</summary>
[Method("quantize", "awq",
    Description = "AWQ: activation-aware per-channel scales (searched per group of linears, folded into the previous norm/linear) and clip search, then asymmetric group-wise rounding; 4-bit is written in AutoAWQ's GEMM packing.",
    ReferenceUrl = "https://arxiv.org/abs/2306.00978")]
public sealed record AwqOptions : IValidatableObject
{
    [Description("Bits per weight (2-8). 4 is written in AutoAWQ's GEMM packing; other widths have no AWQ packing and are written in the GPTQ packing.")]
    [Range(2, 8)]
    public int Bits { get; init; } = 4;

    [Description("Input channels that share one scale and zero; -1 means one pair per output channel. Must divide every quantized layer's input size.")]
    public int GroupSize { get; init; } = 128;

    [Description("Ratios tried by the scale search, s = s_x^(k/grid) for k < grid (AWQ's n_grid, 20); 1 tries only s = 1, i.e. plain rounding.")]
    [Range(1, 100)]
    public int Grid { get; init; } = 20;

    [Description("Search a clipping range per output row and group (all linears but q/k), as AWQ's auto_clip does.")]
    public bool ClipSearch { get; init; } = true;

    [Description("Calibration windows taken from the job's calibration dataset (AWQ's default 128).")]
    [Range(1, 1024)]
    public int CalibrationSamples { get; init; } = 128;

    [Description("Tokens per calibration window (AWQ's default 512); capped at the model's max_position_embeddings.")]
    [Range(16, 8192)]
    public int SeqLen { get; init; } = 512;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (GroupSize != -1 && (GroupSize < 8 || GroupSize > 4096 || (GroupSize & (GroupSize - 1)) != 0))
        {
            yield return new ValidationResult("group_size must be -1 or a power of two between 8 and 4096.", [nameof(GroupSize)]);
        }
    }
}
