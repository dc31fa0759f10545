using System.Text.Json;
using Optimizer.Domain.Jobs;

namespace Optimizer.Api.Contracts.Jobs;

/// <summary>A job as API.md describes it.</summary>
public sealed record JobResponse(
    string Id,
    string Type,
    string Method,
    string? Name,
    string Status,
    string? ModelId,
    JsonElement? Models,
    string? BaseModelId,
    JsonElement Params,
    string? CalibrationDatasetId,
    JsonElement? Evaluation,
    IReadOnlyList<string> Notify,
    string Queue,
    JobProgress Progress,
    int Attempts,
    JobError? Error,
    string? OutputModelId,
    string? ReportId,
    JsonElement Metrics,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt)
{
    /// <summary>
    /// <c>whsec_…</c> that signs the deliveries to <c>notify</c> URLs: only in the response of <c>POST /v1/jobs</c>
    /// (and its idempotent replay), absent elsewhere.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? NotifySecret { get; init; }

    public static JobResponse From(Job job) => new(
        job.Id,
        job.Type,
        job.Method,
        job.Name,
        job.Status.ToWire(),
        job.ModelId,
        Parse(job.ModelsJson),
        job.BaseModelId,
        Parse(job.ParamsJson) ?? default,
        job.CalibrationDatasetId,
        Parse(job.EvaluationJson),
        job.NotifyUrls,
        job.Queue,
        new JobProgress(job.ProgressStage, job.ProgressFraction, job.ProgressMessage),
        job.Attempts,
        job.ErrorCode is null ? null : new JobError(job.ErrorCode, job.ErrorMessage ?? ""),
        job.OutputModelId,
        job.ReportId,
        Parse(job.MetricsJson) ?? default,
        job.CreatedAt,
        job.StartedAt,
        job.FinishedAt);

    private static JsonElement? Parse(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<JsonElement>(json);
}

/// <summary>Where a job is: stage name, fraction done (0..1) and a human message.</summary>
public sealed record JobProgress(string? Stage, double Fraction, string? Message);

/// <summary>Why a job failed: a stable code and a message.</summary>
public sealed record JobError(string Code, string Message);

/// <summary>One log event of a job.</summary>
public sealed record JobEventResponse(long Seq, DateTimeOffset At, string Level, string Stage, string Message, JsonElement? Data)
{
    public static JobEventResponse From(JobEvent e) => new(e.Seq, e.At, e.Level, e.Stage, e.Message,
        e.DataJson is null ? null : JsonSerializer.Deserialize<JsonElement>(e.DataJson));
}
