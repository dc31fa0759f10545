using Optimizer.Domain.Persistence;

namespace Optimizer.Domain.Webhooks;

/// <summary>Tells the world that a job reached a terminal state (webhooks). Never throws and never delays the job for long.</summary>
public interface IJobEventPublisher
{
    /// <summary>Records and queues the deliveries of the job's terminal events; a second call for the same job adds nothing.</summary>
    Task PublishAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// The outbox half: writes the deliveries of the job's terminal events through <paramref name="db"/>, inside the
    /// caller's transaction that saved the terminal status, so a crash after the commit loses no webhook (the Worker's
    /// sweep sends rows nobody queued). Throws on a database error (the caller's transaction is then void).
    /// </summary>
    /// <returns>The ids of the rows it added; queue them with <see cref="Queue"/> once the transaction is committed.</returns>
    Task<IReadOnlyList<string>> AddDeliveriesAsync(OptimizerDbContext db, string jobId, CancellationToken cancellationToken);

    /// <summary>Queues the first attempt of committed deliveries; a failure is logged (the sweep sends them later).</summary>
    void Queue(IReadOnlyList<string> deliveryIds);
}

/// <summary>
/// What Hangfire runs on the <c>webhooks</c> queue: only the delivery id travels. The Worker registers the implementation.
/// </summary>
public interface IWebhookSender
{
    /// <summary>
    /// Makes attempt number <paramref name="autoAttempt"/> of the retry schedule (skipped if that attempt was already
    /// made), or a manual redelivery when it is 0.
    /// </summary>
    Task SendAsync(string deliveryId, int autoAttempt, CancellationToken cancellationToken);
}

/// <summary>Puts delivery attempts on the <c>webhooks</c> queue (Hangfire in both hosts).</summary>
public interface IWebhookQueue
{
    public const string QueueName = "webhooks";

    void Enqueue(string deliveryId, int autoAttempt);

    void Schedule(string deliveryId, int autoAttempt, TimeSpan delay);
}
