using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Quantize.Fp8;

/// <summary>FP8 weight quantization with float32 scales (ALGORITHMS.md 1.6), written as safetensors F8 tensors.</summary>
/// <remarks>
/// Activation quantization is not applied to the stored model: <see cref="Activations"/> is recorded in
/// <c>quantization_config</c> (<c>activation_scheme: "dynamic"</c>) for the inference runtime, which quantizes
/// activations per token at run time (W8A8). Evaluation in the worker runs the dequantized weights with float activations.
/// </remarks>
[Method("quantize", "fp8",
    Description = "FP8 (E4M3 or E5M2) weight quantization with a float32 scale per tensor or per output channel, stored as safetensors F8 tensors.",
    ReferenceUrl = "https://arxiv.org/abs/2307.09782")]
public sealed record Fp8Options
{
    [Description("FP8 format: e4m3 (max 448, 3 mantissa bits; the usual weight format) or e5m2 (max 57344, 2 mantissa bits).")]
    [AllowedValues("e4m3", "e5m2")]
    public string Format { get; init; } = "e4m3";

    [Description("Scale granularity: one float32 scale per output channel (channel) or one per tensor (tensor). Scale = absmax / FP8 max.")]
    [AllowedValues("tensor", "channel")]
    public string Granularity { get; init; } = "channel";

    [Description("Activation quantization the inference runtime should apply: none, or dynamic per-token fp8 or int8 (W8A8). Recorded in quantization_config; weights are the same either way.")]
    [AllowedValues("none", "fp8", "int8")]
    public string Activations { get; init; } = "none";
}
