using System.Text.Json;
using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Domain.Reports;

namespace Optimizer.Domain.Webhooks;

/// <summary>
/// Delivery bodies, <c>{type, timestamp, data}</c> (API.md Webhooks): <c>data</c> is the job as <c>GET /v1/jobs/{id}</c>
/// shows it, the model with download URLs, or the report's verdict, score and URL.
/// </summary>
/// <remarks>
/// The job shape mirrors the Api's <c>JobResponse</c> because the Worker cannot reference the Api; an Api test
/// compares the two so they cannot drift apart.
/// </remarks>
public static class WebhookPayloads
{
    public static string ForJob(string eventType, Job job, DateTimeOffset at) => Envelope(eventType, at, JobData(job));

    public static string ForModel(Model model, DateTimeOffset at, string? baseUrl)
    {
        var self = $"{Base(baseUrl)}/v1/models/{model.Id}";
        return Envelope(WebhookEventTypes.ModelReady, at, new
        {
            id = model.Id,
            name = model.Name,
            status = model.Status == ModelStatus.Ready ? "ready" : "failed",
            architecture = model.Architecture,
            parameter_count = model.ParameterCount,
            dtype = model.Dtype,
            size_bytes = model.SizeBytes,
            files = model.Files.OrderBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => new { name = f.Name, size_bytes = f.SizeBytes, sha256 = f.Sha256, url = $"{self}/files/{f.Name}" }),
            quantization = model.Quantization is { } q ? new { method = q.Method, bits = q.Bits, group_size = q.GroupSize, format = q.Format } : null,
            sparsity = model.Sparsity,
            parent = model.ParentJobId is null ? null : new { job_id = model.ParentJobId, source_model_ids = model.SourceModelIds },
            created_at = model.CreatedAt,
            url = self,
        });
    }

    public static string ForReport(Report report, DateTimeOffset at, string? baseUrl) => Envelope(WebhookEventTypes.ReportReady, at, new
    {
        id = report.Id,
        job_id = report.JobId,
        model_id = report.ModelId,
        verdict = report.Verdict,
        score = report.Score,
        items_total = report.ItemsTotal,
        items_passed = report.ItemsPassed,
        url = $"{Base(baseUrl)}/v1/reports/{report.Id}",
    });

    private static string Envelope(string type, DateTimeOffset at, object data) =>
        JsonSerializer.Serialize(new { type, timestamp = at, data }, OptimizerJson.Options);

    private static string Base(string? baseUrl) => (baseUrl ?? "").TrimEnd('/');

    private static object JobData(Job job) => new
    {
        id = job.Id,
        type = job.Type,
        method = job.Method,
        name = job.Name,
        status = job.Status.ToWire(),
        model_id = job.ModelId,
        models = Parse(job.ModelsJson),
        base_model_id = job.BaseModelId,
        @params = Parse(job.ParamsJson),
        calibration_dataset_id = job.CalibrationDatasetId,
        evaluation = Parse(job.EvaluationJson),
        notify = job.NotifyUrls,
        queue = job.Queue,
        progress = new { stage = job.ProgressStage, fraction = job.ProgressFraction, message = job.ProgressMessage },
        attempts = job.Attempts,
        error = job.ErrorCode is null ? null : new { code = job.ErrorCode, message = job.ErrorMessage ?? "" },
        output_model_id = job.OutputModelId,
        report_id = job.ReportId,
        metrics = Parse(job.MetricsJson),
        created_at = job.CreatedAt,
        started_at = job.StartedAt,
        finished_at = job.FinishedAt,
    };

    private static JsonElement? Parse(string? json) => json is null ? null : JsonSerializer.Deserialize<JsonElement>(json);
}
