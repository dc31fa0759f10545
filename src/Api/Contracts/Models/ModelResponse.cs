using System.Text.Json.Serialization;
using Optimizer.Domain.Models;

namespace Optimizer.Api.Contracts.Models;

/// <summary>A model as API.md describes it.</summary>
public sealed record ModelResponse(
    string Id,
    string Name,
    string Status,
    string Architecture,
    long ParameterCount,
    string Dtype,
    long SizeBytes,
    IReadOnlyList<ModelFileResponse> Files,
    QuantizationResponse? Quantization,
    double? Sparsity,
    string? SparsityPattern,
    ModelParentResponse? Parent,
    DateTimeOffset CreatedAt)
{
    /// <summary>Present only on <c>GET /v1/models/{id}?budget_mb=</c>: the BitStack truncation the budget selects.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ModelBudgetResponse? Budget { get; init; }

    public static ModelResponse From(Model model) => new(
        model.Id,
        model.Name,
        model.Status == ModelStatus.Ready ? "ready" : "failed",
        model.Architecture,
        model.ParameterCount,
        model.Dtype,
        model.SizeBytes,
        [.. model.Files.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => new ModelFileResponse(f.Name, f.SizeBytes, f.Sha256))],
        model.Quantization is { } q ? new QuantizationResponse(q.Method, q.Bits, q.GroupSize, q.Format) : null,
        model.Sparsity,
        model.SparsityPattern,
        model.ParentJobId is null ? null : new ModelParentResponse(model.ParentJobId, model.SourceModelIds),
        model.CreatedAt);
}

/// <summary>One file of a model folder.</summary>
public sealed record ModelFileResponse(string Name, long SizeBytes, string Sha256);

/// <summary>How the weights are quantized.</summary>
public sealed record QuantizationResponse(string Method, int Bits, int GroupSize, string Format);

/// <summary>The job that produced a model and the models it started from.</summary>
public sealed record ModelParentResponse(string JobId, IReadOnlyList<string> SourceModelIds);

/// <summary>A BitStack model loaded to a memory budget: the blocks kept per linear and the resulting size.</summary>
public sealed record ModelBudgetResponse(double BudgetMb, long SizeBytes, long MinimumSizeBytes, long FullSizeBytes, int LoadedBlocks, int TotalBlocks,
    IReadOnlyList<LinearBlocksResponse> Linears);

/// <summary>How many of a linear's blocks a budget loads.</summary>
public sealed record LinearBlocksResponse(string Prefix, int Blocks);
