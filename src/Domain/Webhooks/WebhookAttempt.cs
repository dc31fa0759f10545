namespace Optimizer.Domain.Webhooks;

/// <summary>One HTTP attempt of a delivery: when, the receiver's status code or the error, and how long it took.</summary>
public sealed class WebhookAttempt
{
    private WebhookAttempt()
    {
    }

    public WebhookAttempt(string deliveryId, DateTimeOffset at, int? statusCode, string? error, long durationMs, bool manual)
    {
        DeliveryId = deliveryId;
        At = at;
        StatusCode = statusCode;
        Error = error;
        DurationMs = durationMs;
        Manual = manual;
    }

    public long Id { get; private set; }
    public string DeliveryId { get; private set; } = "";
    public DateTimeOffset At { get; private set; }
    /// <summary>The receiver's HTTP status, or null when no answer came (refused, timeout, connection error).</summary>
    public int? StatusCode { get; private set; }
    public string? Error { get; private set; }
    public long DurationMs { get; private set; }
    /// <summary>Made by <c>POST …/redeliver</c> rather than the retry schedule.</summary>
    public bool Manual { get; private set; }

    /// <summary>Any 2xx is success (Standard Webhooks).</summary>
    public bool Succeeded => StatusCode is >= 200 and < 300;
}
