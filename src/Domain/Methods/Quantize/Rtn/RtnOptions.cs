using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Quantize.Rtn;

/// <summary>Round-to-nearest weight quantization (ALGORITHMS.md 1.1), written in the GPTQ packing.</summary>
[Method("quantize", "rtn",
    Description = "Round-to-nearest weight-only quantization, group-wise or per-channel, written in the GPTQ int packing.",
    ReferenceUrl = "https://arxiv.org/abs/2210.17323")]
public sealed record RtnOptions : IValidatableObject
{
    [Description("Bits per weight (2-8). 2, 4 and 8 pack into int32 words; 3, 5, 6 and 7 straddle words as GPTQ's 3-bit does.")]
    [Range(2, 8)]
    public int Bits { get; init; } = 4;

    [Description("Input channels that share one scale and zero; -1 means one pair per output channel. Must divide every quantized layer's input size.")]
    public int GroupSize { get; init; } = 128;

    [Description("Symmetric (GPTQ style: unsigned codes with the zero at 2^(bits-1)) instead of asymmetric min/max with a zero point.")]
    public bool Symmetric { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (GroupSize != -1 && (GroupSize < 8 || GroupSize > 4096 || (GroupSize & (GroupSize - 1)) != 0))
        {
            yield return new ValidationResult("group_size must be -1 or a power of two between 8 and 4096.", [nameof(GroupSize)]);
        }
    }
}
