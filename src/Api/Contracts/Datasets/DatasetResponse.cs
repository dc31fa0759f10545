using System.Text.Json;
using Optimizer.Domain.Datasets;

namespace Optimizer.Api.Contracts.Datasets;

/// <summary>A dataset as API.md describes it; <c>builtin</c> datasets belong to no tenant.</summary>
public sealed record DatasetResponse(
    string Id,
    string Name,
    string Format,
    long Records,
    long SizeBytes,
    string Sha256,
    bool Builtin,
    DateTimeOffset CreatedAt)
{
    public static DatasetResponse From(Dataset dataset) => new(
        dataset.Id,
        dataset.Name,
        JsonNamingPolicy.SnakeCaseLower.ConvertName(dataset.Format.ToString()),
        dataset.Records,
        dataset.SizeBytes,
        dataset.Sha256,
        dataset.IsBuiltin,
        dataset.CreatedAt);
}
