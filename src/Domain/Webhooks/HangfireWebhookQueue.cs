using Hangfire;
using Hangfire.States;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Worker.Webhooks;

/// <summary>Delivery attempts as Hangfire jobs on the <c>webhooks</c> queue (only the delivery id travels).</summary>
public sealed class HangfireWebhookQueue(IBackgroundJobClient client) : IWebhookQueue
{
    public void Enqueue(string deliveryId, int autoAttempt) =>
        client.Create(Job(deliveryId, autoAttempt), new EnqueuedState(IWebhookQueue.QueueName));

    public void Schedule(string deliveryId, int autoAttempt, TimeSpan delay) =>
        client.Create(Job(deliveryId, autoAttempt), new ScheduledState(delay));

    private static Hangfire.Common.Job Job(string deliveryId, int autoAttempt) =>
        Hangfire.Common.Job.FromExpression<IWebhookSender>(s => s.SendAsync(deliveryId, autoAttempt, CancellationToken.None), IWebhookQueue.QueueName);
}
