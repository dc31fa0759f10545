using Hangfire;
using Hangfire.States;
namespace Optimizer.Domain.Webhooks;

/// <summary>
/// Delivery attempts as Hangfire jobs on the <c>webhooks</c> queue (only the delivery id travels); the Worker's webhooks
/// server runs them. Here, next to <see cref="IWebhookQueue"/>, because both hosts queue attempts (the Api: a manual
/// redelivery, a queued job cancelled) and Domain is the one project they share.
/// </summary>
public sealed class HangfireWebhookQueue(IBackgroundJobClient client) : IWebhookQueue
{
    public void Enqueue(string deliveryId, int autoAttempt) =>
        client.Create(Job(deliveryId, autoAttempt), new EnqueuedState(IWebhookQueue.QueueName));

    public void Schedule(string deliveryId, int autoAttempt, TimeSpan delay) =>
        client.Create(Job(deliveryId, autoAttempt), new ScheduledState(delay));

    private static Hangfire.Common.Job Job(string deliveryId, int autoAttempt) =>
        Hangfire.Common.Job.FromExpression<IWebhookSender>(s => s.SendAsync(deliveryId, autoAttempt, CancellationToken.None), IWebhookQueue.QueueName);
}
