using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Quantize.Gptq;

/// <summary>GPTQ (ALGORITHMS.md 1.2), optionally with the GPTAQ (1.3) or ResComp (1.4) correction, written in the GPTQ packing.</summary>
[Method("quantize", "gptq",
    Description = "GPTQ: second-order (Hessian) weight quantization calibrated layer by layer, with act-order, static groups, true-sequential and the GPTAQ/ResComp corrections; written in the GPTQ int packing.",
    ReferenceUrl = "https://arxiv.org/abs/2210.17323")]
public sealed record GptqOptions : IValidatableObject
{
    public const string NoCorrection = "none";
    public const string Gptaq = "gptaq";
    public const string ResComp = "rescomp";

    [Description("Bits per weight (2-8). 2, 4 and 8 pack into int32 words; 3, 5, 6 and 7 straddle words as GPTQ's 3-bit does.")]
    [Range(2, 8)]
    public int Bits { get; init; } = 4;

    [Description("Input channels that share one scale and zero; -1 means one pair per output channel. Must divide every quantized layer's input size.")]
    public int GroupSize { get; init; } = 128;

    [Description("Symmetric grid (GPTQ style: unsigned codes with the zero at 2^(bits-1)) instead of asymmetric min/max with a zero point.")]
    public bool Symmetric { get; init; }

    [Description("Quantize columns in order of decreasing Hessian diagonal (desc_act); groups then follow that order and g_idx records each column's group.")]
    public bool ActOrder { get; init; } = true;

    [Description("Fix every group's scale and zero from the original weights before quantizing (keeps g_idx trivial with act_order).")]
    public bool StaticGroups { get; init; }

    [Description("Within each block quantize q/k/v, then o, then gate/up, then down, recomputing the inputs after each step.")]
    public bool TrueSequential { get; init; } = true;

    [Description("Dampening added to the Hessian diagonal, as a fraction of its mean (GPTQ's percdamp).")]
    [Range(0.0001, 1.0)]
    public double DampPercent { get; init; } = 0.01;

    [Description("Columns per lazy batch update; the result does not depend on it (up to rounding), only the speed does.")]
    [Range(1, 4096)]
    public int BlockSize { get; init; } = 128;

    [Description("\"none\" (GPTQ), \"gptaq\" (match the full-precision model's outputs: asymmetric calibration) or \"rescomp\" (GPTAQ plus the compensation-aware residual term).")]
    [AllowedValues(NoCorrection, Gptaq, ResComp)]
    public string Correction { get; init; } = NoCorrection;

    [Description("Weight of the GPTAQ / ResComp correction terms (the references' alpha, 0.25).")]
    [Range(0.0, 1.0)]
    public double CorrectionAlpha { get; init; } = 0.25;

    [Description("Calibration windows taken from the job's calibration dataset (GPTQ's default 128).")]
    [Range(1, 1024)]
    public int CalibrationSamples { get; init; } = 128;

    [Description("Tokens per calibration window; capped at the model's max_position_embeddings.")]
    [Range(16, 8192)]
    public int SeqLen { get; init; } = 2048;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (GroupSize != -1 && (GroupSize < 8 || GroupSize > 4096 || (GroupSize & (GroupSize - 1)) != 0))
        {
            yield return new ValidationResult("group_size must be -1 or a power of two between 8 and 4096.", [nameof(GroupSize)]);
        }
    }
}
