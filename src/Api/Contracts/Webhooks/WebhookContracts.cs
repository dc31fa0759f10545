using System.Text.Json.Serialization;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Api.Contracts.Webhooks;

/// <summary>Body of <c>POST /v1/webhooks</c>.</summary>
public sealed record CreateWebhookRequest
{
    /// <summary>Absolute http(s) URL on a public address; it receives signed POSTs.</summary>
    public string? Url { get; init; }
    /// <summary>Event types to receive; omitted: all of job.succeeded, job.failed, job.cancelled, model.ready, report.ready.</summary>
    public IReadOnlyList<string>? Events { get; init; }
    /// <summary>Optional note.</summary>
    public string? Description { get; init; }
}

/// <summary>A subscription. <c>secret</c> appears only in the response that created it.</summary>
public sealed record WebhookResponse(string Id, string Url, IReadOnlyList<string> Events, string? Description, bool Enabled,
    DateTimeOffset CreatedAt)
{
    /// <summary><c>whsec_…</c>: verify <c>webhook-signature</c> with it. Shown once.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Secret { get; init; }

    public static WebhookResponse From(WebhookSubscription s) => new(s.Id, s.Url, s.Events, s.Description, s.Enabled, s.CreatedAt);
}

/// <summary>
/// One event sent to one subscription: <c>attempt</c> is the number of attempts made, <c>status_code</c> and
/// <c>error</c> those of the last one, <c>attempts</c> every attempt (oldest first).
/// </summary>
public sealed record WebhookDeliveryResponse(
    string Id,
    string WebhookId,
    string Event,
    string JobId,
    string Status,
    int? StatusCode,
    int Attempt,
    DateTimeOffset? NextRetryAt,
    DateTimeOffset? DeliveredAt,
    string? Error,
    DateTimeOffset CreatedAt,
    IReadOnlyList<WebhookAttemptResponse> Attempts)
{
    public static WebhookDeliveryResponse From(WebhookDelivery d, IEnumerable<WebhookAttempt> attempts) => new(
        d.Id, d.MessageId, d.EventType, d.JobId, d.Status.ToString().ToLowerInvariant(), d.LastStatusCode, d.Attempts,
        d.NextRetryAt, d.DeliveredAt, d.LastError, d.CreatedAt,
        [.. attempts.OrderBy(a => a.Id).Select(a => new WebhookAttemptResponse(a.At, a.StatusCode, a.Error, a.DurationMs, a.Manual))]);
}

/// <summary>One HTTP attempt: when, the receiver's status (null when it did not answer), the error, the duration.</summary>
public sealed record WebhookAttemptResponse(DateTimeOffset At, int? StatusCode, string? Error, long DurationMs, bool Manual);
