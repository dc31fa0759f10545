using System.ComponentModel;

namespace Optimizer.Domain.Methods.Merge.Linear;

/// <summary>Linear merge / model soup (ALGORITHMS.md 3.1): <c>θ = Σ w_i θ_i / Σ w_i</c>, per tensor.</summary>
[Method("merge", "linear",
    Description = "Linear merge (model soup): the weighted average of the models' tensors; weights come from models[].weight.",
    ReferenceUrl = "https://arxiv.org/abs/2203.05482")]
public sealed record LinearMergeOptions : IMergeOptions
{
    [Description("Divide by the sum of the weights (mergekit's default); false gives the plain weighted sum.")]
    public bool Normalize { get; init; } = true;

    [System.Text.Json.Serialization.JsonIgnore]
    public MergeInputRule Inputs => new(2, 64, MergeBase.Forbidden, "linear takes at least two 'models' and no base_model_id");
}
