using Optimizer.Domain.Common;

namespace Optimizer.Domain.Reports;

/// <summary>An Adaptive Precise Boolean evaluation report (ALGORITHMS.md Part B).</summary>
public sealed class Report
{
    private Report()
    {
    }

    public Report(string tenantId, string jobId, string modelId, string? baselineModelId)
    {
        Id = Ids.New("rpt");
        TenantId = tenantId;
        JobId = jobId;
        ModelId = modelId;
        BaselineModelId = baselineModelId;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    public string Id { get; private set; } = "";
    public string TenantId { get; private set; } = "";
    public string JobId { get; private set; } = "";
    public string ModelId { get; private set; } = "";
    public string? BaselineModelId { get; private set; }
    public string Verdict { get; set; } = "fail";
    public double Score { get; set; }
    public int ItemsTotal { get; set; }
    public int ItemsPassed { get; set; }
    public string MetricsJson { get; set; } = "{}";
    /// <summary>The item tree as JSON (<see cref="ReportItem"/> list, snake_case).</summary>
    public string ItemsJson { get; set; } = "[]";
    public DateTimeOffset CreatedAt { get; private set; }
}

/// <summary>One precise boolean question and its answer, with the finer questions asked because it failed.</summary>
public sealed record ReportItem(
    string Id,
    string Question,
    string Category,
    bool Answer,
    IReadOnlyDictionary<string, object?> Evidence,
    double Weight,
    bool Critical,
    IReadOnlyList<ReportItem> Children);
