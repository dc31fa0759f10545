using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Prune.Monarch;

/// <summary>
/// Monarch projection (ALGORITHMS.md 2.6): replace chosen decoder linears by the nearest (Frobenius) product of two
/// block-diagonal matrices with a fixed permutation between them, stored as the two factors.
/// </summary>
[Method("prune", "monarch",
    Description = "Monarch: project chosen linears onto Monarch matrices (two block-diagonal factors, closed form by batched rank-1 SVDs); the model runs the factored form.",
    ReferenceUrl = "https://arxiv.org/abs/2204.00595")]
public sealed record MonarchOptions : IValidatableObject
{
    /// <summary>The linears of a Llama decoder block a Monarch projection can replace.</summary>
    public static readonly IReadOnlyList<string> Linears =
        ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];

    [Description("Blocks of each factor; the input and output sizes of every target must be multiples of it. Parameters per linear drop from out·in to nblocks·(in + out).")]
    [Range(2, 1024)]
    public int Nblocks { get; init; } = 4;

    [Description("Linears projected in every decoder block, by their name inside the block (default: the MLP projections).")]
    public IReadOnlyList<string> Targets { get; init; } = ["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Targets.Count == 0 || Targets.Any(t => !Linears.Contains(t)) || Targets.Distinct().Count() != Targets.Count)
        {
            yield return new ValidationResult(
                $"targets must be distinct names among {string.Join(", ", Linears)}.", [nameof(Targets)]);
        }
    }
}
