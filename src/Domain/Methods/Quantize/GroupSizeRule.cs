using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Quantize;

/// <summary>The group-size rule the weight-only quantizers share: -1 (one group per output row) or a power of two in [min, 4096].</summary>
public static class GroupSizeRule
{
    public static IEnumerable<ValidationResult> Validate(int groupSize, int min = 8)
    {
        if (groupSize != -1 && (groupSize < min || groupSize > 4096 || (groupSize & (groupSize - 1)) != 0))
        {
            yield return new ValidationResult($"group_size must be -1 or a power of two between {min} and 4096.", ["GroupSize"]);
        }
    }
}
