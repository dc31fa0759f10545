using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Merge;

/// <summary>
/// The options of mergekit's "generalized task arithmetic" family (task_arithmetic, ties, dare_linear, dare_ties):
/// task vectors <c>τ_i = θ_i − θ₀</c> against <c>base_model_id</c>, optionally sparsified and sign-elected, mixed
/// with the per-model weights of <c>models[].weight</c>, then scaled by <see cref="Lambda"/> and added to the base.
/// </summary>
public abstract record TaskVectorOptions : IMergeOptions
{
    [Description("Global multiplier of the mixed task vector (ALGORITHMS.md 3.3-3.4); negative values subtract (forgetting).")]
    [Range(-10.0, 10.0)]
    public double Lambda { get; init; } = 1.0;

    /// <summary>Divide the mixed task vector by the (elected) weight sum; the default differs per method as in mergekit.</summary>
    public abstract bool Normalize { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public MergeInputRule Inputs => new(1, 64, MergeBase.Required, "this method takes a base_model_id and at least one entry in 'models'");
}
