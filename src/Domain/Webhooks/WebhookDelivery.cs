namespace Optimizer.Domain.Webhooks;

/// <summary>
/// One event sent to one destination (a subscription, or a job's one-off <c>notify</c> URL), with every attempt.
/// </summary>
/// <remarks>
/// The id and the <c>webhook-id</c> are derived from the job, the event and the destination
/// (<see cref="WebhookIds"/>), so publishing the same job event again (a re-run after a worker crash) finds the
/// existing row instead of sending a second message.
/// </remarks>
public sealed class WebhookDelivery
{
    private WebhookDelivery()
    {
    }

    public WebhookDelivery(string id, string messageId, string tenantId, string jobId, string eventType, string url,
        string? subscriptionId, string payload)
    {
        Id = id;
        MessageId = messageId;
        TenantId = tenantId;
        JobId = jobId;
        EventType = eventType;
        Url = url;
        SubscriptionId = subscriptionId;
        Payload = payload;
        Status = WebhookDeliveryStatus.Pending;
        CreatedAt = DateTimeOffset.UtcNow;
        NextRetryAt = CreatedAt;
    }

    public string Id { get; private set; } = "";
    /// <summary>The <c>webhook-id</c> header: one per event, the same on every attempt and destination.</summary>
    public string MessageId { get; private set; } = "";
    public string TenantId { get; private set; } = "";
    public string JobId { get; private set; } = "";
    public string EventType { get; private set; } = "";
    public string Url { get; private set; } = "";
    /// <summary>The subscription, or null for a job's <c>notify</c> URL (signed with the job's notify secret).</summary>
    public string? SubscriptionId { get; private set; }
    /// <summary>The exact JSON body, fixed when the event happened, so every attempt sends (and signs) the same bytes.</summary>
    public string Payload { get; private set; } = "";
    public WebhookDeliveryStatus Status { get; private set; }
    /// <summary>Attempts made, automatic and manual.</summary>
    public int Attempts { get; private set; }
    /// <summary>Automatic attempts made: the position in the retry schedule.</summary>
    public int AutoAttempts { get; private set; }
    public int? LastStatusCode { get; private set; }
    public string? LastError { get; private set; }
    /// <summary>When the next automatic attempt is due (null when none is planned).</summary>
    public DateTimeOffset? NextRetryAt { get; private set; }
    public DateTimeOffset? DeliveredAt { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Records the outcome of an attempt already claimed; <paramref name="nextRetryAt"/> null means no more automatic ones.</summary>
    public void Record(WebhookAttempt attempt, DateTimeOffset? nextRetryAt)
    {
        Attempts++;
        LastStatusCode = attempt.StatusCode;
        LastError = attempt.Error;
        if (attempt.Succeeded)
        {
            Status = WebhookDeliveryStatus.Succeeded;
            DeliveredAt = attempt.At;
            NextRetryAt = null;
            return;
        }
        if (attempt.Manual)
        {
            // A manual redelivery does not move the automatic schedule.
            return;
        }
        NextRetryAt = nextRetryAt;
        if (nextRetryAt is null)
        {
            Status = WebhookDeliveryStatus.Failed;
        }
    }
}

public enum WebhookDeliveryStatus
{
    Pending,
    Succeeded,
    Failed,
}
