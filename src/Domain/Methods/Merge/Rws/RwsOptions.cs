using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Merge.Rws;

/// <summary>
/// Robust Weight Signatures (ALGORITHMS.md 3.7). <c>extract</c>: the signature <c>θ_robust − θ_clean</c> on the chosen
/// shallow layers, stored as a model of its own. <c>apply</c>: <c>θ = θ_clean + Σ_c λ_c·RWS_c</c>, where each entry of
/// <c>models</c> is a stored signature (or a full robust model, whose difference is taken on the fly) and its
/// <c>weight</c> is λ_c; λ = −1 removes a signature.
/// </summary>
[Method("merge", "rws",
    Description = "Robust Weight Signatures: extract (robust - clean on chosen shallow layers, stored as a signature model) or apply signatures with lambda = models[].weight (compose several; -1 removes).",
    ReferenceUrl = "https://arxiv.org/abs/2302.12480")]
public sealed record RwsOptions : IMergeOptions, IValidatableObject
{
    public const string ExtractMode = "extract";
    public const string ApplyMode = "apply";

    [Description("\"extract\": base_model_id is the clean model, models holds the one robust model; the output is the signature. \"apply\": base_model_id is the clean model, models the signatures with their lambda as weight.")]
    [AllowedValues(ExtractMode, ApplyMode)]
    public string Mode { get; init; } = ApplyMode;

    [Description("Decoder layer indices the signature covers (extract; and apply with full robust models): the shallow layers, where the robust/clean difference concentrates.")]
    public IReadOnlyList<int> Layers { get; init; } = [0, 1];

    [Description("Also take the token embedding (the shallowest weights of a decoder) into the signature.")]
    public bool IncludeEmbeddings { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public MergeInputRule Inputs => Mode == ExtractMode
        ? new(1, 1, MergeBase.Required, "rws extract takes the clean model as base_model_id and exactly one robust model in 'models'")
        : new(1, 64, MergeBase.Required, "rws apply takes the clean model as base_model_id and one or more signatures in 'models' (weight = lambda)");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Layers.Any(l => l < 0 || l > 4096) || Layers.Distinct().Count() != Layers.Count)
        {
            yield return new ValidationResult("layers must be distinct decoder layer indices (0-4096).", [nameof(Layers)]);
        }
        if (Layers.Count == 0 && !IncludeEmbeddings)
        {
            yield return new ValidationResult("The signature would be empty: give layers or include_embeddings.", [nameof(Layers)]);
        }
    }
}
