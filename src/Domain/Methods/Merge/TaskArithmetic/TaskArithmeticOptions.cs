using System.ComponentModel;

namespace Optimizer.Domain.Methods.Merge.TaskArithmetic;

/// <summary>Task arithmetic (ALGORITHMS.md 3.3): <c>θ = θ₀ + λ·Σ w_i τ_i</c>, no normalisation by default.</summary>
[Method("merge", "task_arithmetic",
    Description = "Task arithmetic: add the weighted task vectors (model - base) to the base model, scaled by lambda.",
    ReferenceUrl = "https://arxiv.org/abs/2212.04089")]
public sealed record TaskArithmeticOptions : TaskVectorOptions
{
    [Description("Divide the summed task vectors by the sum of the weights (mergekit default for task_arithmetic: false).")]
    public override bool Normalize { get; init; }
}
