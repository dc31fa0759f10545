using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Telemetry;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Worker.Webhooks;

/// <summary>
/// Makes one attempt of a delivery: signs the stored body, POSTs it, records the attempt and, when it failed and the
/// schedule has a next step, schedules that retry. Hangfire's own retries are off; this is the retry policy.
/// </summary>
/// <remarks>
/// Checkpoint 1: an automatic attempt is claimed with one conditional update (<c>auto_attempts = n - 1 → n</c>), so
/// a duplicate Hangfire job (re-delivery, sweep) sends nothing. Checkpoint 2: the attempt and the delivery's new state
/// are saved together, then the retry is queued; if queueing fails the sweep finds the overdue delivery. Nothing is thrown.
/// </remarks>
public sealed partial class WebhookSender(OptimizerDbContext db, WebhookHttp http, IWebhookQueue queue,
    IOptions<WebhookOptions> options, OptimizerMetrics metrics, ILogger<WebhookSender> logger) : IWebhookSender
{
    private static readonly TimeSpan s_maxEarlyWait = TimeSpan.FromSeconds(2);

    public async Task SendAsync(string deliveryId, int autoAttempt, CancellationToken cancellationToken)
    {
        try
        {
            var delivery = await db.WebhookDeliveries.FirstOrDefaultAsync(d => d.Id == deliveryId, cancellationToken);
            if (delivery is null || (autoAttempt > 0 && !await ClaimAsync(deliveryId, autoAttempt, cancellationToken)))
            {
                LogSkipped(deliveryId, autoAttempt);
                return;
            }
            using var logScope = logger.BeginJobScope(delivery.JobId, delivery.TenantId);
            // One read of the job row: its traceparent puts this span in the trace of the request that submitted the job,
            // beside its job.run spans, and its notify secret signs a notify_url delivery.
            var job = await db.Jobs.Where(j => j.Id == delivery.JobId).Select(j => new { j.TraceParent, j.NotifySecret })
                .FirstOrDefaultAsync(cancellationToken);
            using var activity = OptimizerActivities.StartChildOf("webhook.deliver", ActivityKind.Client, job?.TraceParent);
            activity?.SetTag("optimizer.job.id", delivery.JobId).SetTag("optimizer.webhook.event", delivery.EventType);
            await WaitUntilDueAsync(delivery, autoAttempt, cancellationToken);
            var secret = await SecretAsync(delivery, job?.NotifySecret, cancellationToken);
            var (attempt, outcome) = secret is null
                ? (new WebhookAttempt(delivery.Id, DateTimeOffset.UtcNow, null, "No signing secret: the subscription or job is gone.", 0, autoAttempt == 0), "no_secret")
                : await PostAsync(delivery, secret, autoAttempt == 0, cancellationToken);
            metrics.WebhookAttempted(delivery.EventType, outcome, secret is null ? null : TimeSpan.FromMilliseconds(attempt.DurationMs));
            var schedule = options.Value.RetrySchedule();
            TimeSpan? delay = !attempt.Succeeded && secret is not null && autoAttempt > 0 && autoAttempt <= schedule.Count
                ? schedule[autoAttempt - 1]
                : null;
            db.WebhookAttempts.Add(attempt);
            delivery.Record(attempt, delay is { } d ? attempt.At + d : null);
            await db.SaveChangesAsync(CancellationToken.None);
            if (delay is { } wait)
            {
                queue.Schedule(delivery.Id, autoAttempt + 1, wait);
            }
        }
        catch (Exception ex)
        {
            LogFailed(ex, deliveryId, autoAttempt);
        }
    }

    /// <summary>
    /// Hangfire stores a scheduled job's time in whole seconds, so a retry can start up to a second before it is due;
    /// the rest of the wait happens here so a receiver never sees retries closer together than the schedule says.
    /// </summary>
    private static async Task WaitUntilDueAsync(WebhookDelivery delivery, int autoAttempt, CancellationToken cancellationToken)
    {
        if (autoAttempt > 1 && delivery.NextRetryAt is { } due && due - DateTimeOffset.UtcNow is { } early && early > TimeSpan.Zero)
        {
            await Task.Delay(early < s_maxEarlyWait ? early : s_maxEarlyWait, cancellationToken);
        }
    }

    private async Task<bool> ClaimAsync(string deliveryId, int autoAttempt, CancellationToken cancellationToken) =>
        await db.WebhookDeliveries
            .Where(d => d.Id == deliveryId && d.Status == WebhookDeliveryStatus.Pending && d.AutoAttempts == autoAttempt - 1)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.AutoAttempts, autoAttempt), cancellationToken) == 1;

    /// <summary>The subscription's current secret, or the job's notify secret for a notify URL.</summary>
    private async Task<string?> SecretAsync(WebhookDelivery delivery, string? notifySecret, CancellationToken cancellationToken) =>
        delivery.SubscriptionId is { } subscriptionId
            ? await db.WebhookSubscriptions.Where(s => s.Id == subscriptionId).Select(s => s.Secret).FirstOrDefaultAsync(cancellationToken)
            : notifySecret;

    /// <returns>The attempt, and its outcome for the metrics: <c>delivered</c>, <c>rejected</c> (non-2xx), <c>timeout</c> or <c>error</c>.</returns>
    private async Task<(WebhookAttempt Attempt, string Outcome)> PostAsync(WebhookDelivery delivery, string secret, bool manual, CancellationToken cancellationToken)
    {
        var at = DateTimeOffset.UtcNow;
        var timestamp = at.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(WebhookSignature.IdHeader, delivery.MessageId);
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, delivery.MessageId, timestamp, delivery.Payload));
        request.Headers.UserAgent.ParseAdd("Optimizer-Webhooks/1.0");
        var timeout = options.Value.Timeout;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var watch = Stopwatch.StartNew();
        int? status = null;
        string? error;
        var outcome = "error";
        try
        {
            using var response = await http.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            status = (int)response.StatusCode;
            error = status switch
            {
                >= 200 and < 300 => null,
                >= 300 and < 400 => $"HTTP {status}: redirects are not followed (Location: {response.Headers.Location}).",
                _ => $"HTTP {status}.",
            };
            outcome = error is null ? "delivered" : "rejected";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            error = $"No answer within {timeout.TotalSeconds:0.###} s.";
            outcome = "timeout";
        }
        catch (OperationCanceledException)
        {
            error = "The worker shut down during the attempt.";
        }
        catch (HttpRequestException ex)
        {
            error = ex.InnerException is WebhookDestinationRefusedException refused ? refused.Message : ex.Message;
        }
        return (new WebhookAttempt(delivery.Id, at, status, error, watch.ElapsedMilliseconds, manual), outcome);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Webhook delivery {DeliveryId} attempt {Attempt} skipped: already made or delivered")]
    private partial void LogSkipped(string deliveryId, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook delivery {DeliveryId} attempt {Attempt} could not be made or recorded")]
    private partial void LogFailed(Exception exception, string deliveryId, int attempt);
}

/// <summary>The process-wide delivery client (<see cref="GuardedHttpClient"/>), one connection pool for every attempt.</summary>
public sealed class WebhookHttp(IOptions<WebhookOptions> options) : IDisposable
{
    public HttpClient Client { get; } = GuardedHttpClient.Create(options.Value.AllowPrivateNetworks);

    public void Dispose() => Client.Dispose();
}
