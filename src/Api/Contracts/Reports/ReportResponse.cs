using System.Text.Json;
using Optimizer.Domain.Reports;

namespace Optimizer.Api.Contracts.Reports;

/// <summary>An evaluation report; <c>items</c> and <c>metrics</c> are passed through as stored by the Worker.</summary>
public sealed record ReportResponse(
    string Id,
    string JobId,
    string ModelId,
    string? BaselineModelId,
    string Verdict,
    double Score,
    int ItemsTotal,
    int ItemsPassed,
    JsonElement Metrics,
    JsonElement Items,
    DateTimeOffset CreatedAt)
{
    public static ReportResponse From(Report report) => new(
        report.Id, report.JobId, report.ModelId, report.BaselineModelId, report.Verdict, report.Score,
        report.ItemsTotal, report.ItemsPassed,
        JsonSerializer.Deserialize<JsonElement>(report.MetricsJson),
        JsonSerializer.Deserialize<JsonElement>(report.ItemsJson),
        report.CreatedAt);
}
