using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Quantize.Fp4;

/// <summary>
/// FP4 (E2M1) group-wise weight quantization after ZeroQuant-FP (ALGORITHMS.md 1.6), with its power-of-two scale
/// constraints and optional LoRC low-rank compensation; stored as packed nibbles plus scales (docs/formats/fp4.md).
/// </summary>
/// <remarks>
/// <see cref="Activations"/> is recorded in <c>quantization_config</c> for the inference runtime (the paper's W4A8 uses
/// FP8 activations); evaluation in the worker runs the dequantized weights with float activations.
/// </remarks>
[Method("quantize", "fp4",
    Description = "FP4 E2M1 group-wise weight quantization (ZeroQuant-FP) with optional power-of-two scale constraints and LoRC low-rank error compensation.",
    ReferenceUrl = "https://arxiv.org/abs/2307.09782")]
public sealed record Fp4Options : IValidatableObject
{
    public const string RoundToNearest = "rtn";
    public const string GptqRounding = "gptq";

    [Description("Input channels that share one scale (32 = the MXFP4 block); -1 means one scale per output channel. Must divide every quantized layer's input size.")]
    public int GroupSize { get; init; } = 32;

    [Description("Scale constraint: none (absmax/6 per group), pow2 (M1: each group scale rounded up to a power of two) or row_pow2 (M2: one real scale per row times a power of two per group).")]
    [AllowedValues("none", "pow2", "row_pow2")]
    public string ScaleConstraint { get; init; } = "none";

    [Description("LoRC rank r: store the best rank-r approximation of the quantization error W - Q(W) as two float16 factors added back on load (0 = off; ZeroQuant-V2 uses 8).")]
    [Range(0, 1024)]
    public int LorcRank { get; init; }

    [Description("How weights are rounded onto the FP4 grid: rtn (round to nearest, ties to even; streams tensor by tensor) or gptq (GPTQ's Hessian error feedback, calibrated layer by layer on the job's calibration dataset, as ZeroQuant-FP does; group scales stay those of rtn).")]
    [AllowedValues(RoundToNearest, GptqRounding)]
    public string Rounding { get; init; } = RoundToNearest;

    [Description("GPTQ rounding only: quantize columns in order of decreasing Hessian diagonal (each column keeps its natural group).")]
    public bool ActOrder { get; init; } = true;

    [Description("GPTQ rounding only: dampening added to the Hessian diagonal, as a fraction of its mean (GPTQ's percdamp).")]
    [Range(0.0001, 1.0)]
    public double DampPercent { get; init; } = 0.01;

    [Description("GPTQ rounding only: calibration windows taken from the job's calibration dataset (GPTQ's default 128).")]
    [Range(1, 1024)]
    public int CalibrationSamples { get; init; } = 128;

    [Description("GPTQ rounding only: tokens per calibration window; capped at the model's max_position_embeddings.")]
    [Range(16, 8192)]
    public int SeqLen { get; init; } = 2048;

    [Description("Activation quantization the inference runtime should apply: fp8 (the paper's W4A8, dynamic per token), int8, or none. Recorded in quantization_config; the weights are the same either way.")]
    [AllowedValues("none", "fp8", "int8")]
    public string Activations { get; init; } = "fp8";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => GroupSizeRule.Validate(GroupSize, min: 2);
}
