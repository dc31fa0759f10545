using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Quantize.D2Quant;

/// <summary>
/// D²Quant (ALGORITHMS.md 1.9): a dual-scale quantizer for <c>down_proj</c> (a second, absorbable per-channel scale folded
/// into <c>up_proj</c>) and a deviation-aware correction (a <c>down_proj</c> bias that restores each block's mean output),
/// with GPTQ rounding, written in the GPTQ packing.
/// </summary>
[Method("quantize", "d2quant",
    Description = "D²Quant: sub-4-bit weight-only quantization; down_proj gets a second per-channel scale folded into up_proj (searched on calibration data), every block's mean output shift is corrected by a down_proj bias; GPTQ rounding, GPTQ int packing.",
    ReferenceUrl = "https://arxiv.org/abs/2602.02546")]
public sealed record D2QuantOptions : IValidatableObject
{
    [Description("Bits per weight (2 or 3; 4 is accepted for comparison).")]
    [Range(2, 4)]
    public int Bits { get; init; } = 2;

    [Description("Input channels that share one scale and zero; -1 means one pair per output channel. Must divide every quantized layer's input size.")]
    public int GroupSize { get; init; } = 128;

    [Description("Dual-scale quantizer for down_proj: quantize W_down·diag(c)⁻¹ and fold c into up_proj's rows (exact in SwiGLU).")]
    public bool DualScale { get; init; } = true;

    [Description("Exponents tried by the dual-scale search, c = s_x^(k/grid) for k < grid (s_x: RMS of each down_proj input channel).")]
    [Range(1, 100)]
    public int Grid { get; init; } = 20;

    [Description("Deviation-aware correction: after quantizing a block, subtract the mean shift of its output from the full-precision one through a down_proj bias.")]
    public bool DeviationCorrection { get; init; } = true;

    [Description("Dampening added to the Hessian diagonal, as a fraction of its mean (GPTQ's percdamp).")]
    [Range(0.0001, 1.0)]
    public double DampPercent { get; init; } = 0.01;

    [Description("Calibration windows taken from the job's calibration dataset.")]
    [Range(1, 1024)]
    public int CalibrationSamples { get; init; } = 128;

    [Description("Tokens per calibration window; capped at the model's max_position_embeddings.")]
    [Range(16, 8192)]
    public int SeqLen { get; init; } = 2048;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => GroupSizeRule.Validate(GroupSize);
}
