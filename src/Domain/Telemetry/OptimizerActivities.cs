using System.Diagnostics;

namespace Optimizer.Domain.Telemetry;

/// <summary>The service's own spans (a job attempt, a webhook delivery attempt — both children of the submitting request), exported with OTLP.</summary>
public static class OptimizerActivities
{
    public const string SourceName = "Optimizer";

    /// <summary>Static by design: an <see cref="ActivitySource"/> only produces spans while some provider listens to it.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// The current span as a W3C <c>traceparent</c>, to carry across the queue; null when there is none or it is not
    /// recorded. An unrecorded parent would make the other side's parent-based sampler drop its spans, so the worker's
    /// <c>job.run</c> would vanish whenever the Api does not trace; without a parent it is sampled on its own.
    /// </summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { Recorded: true, IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>Starts <paramref name="name"/> as a child of <paramref name="traceParent"/> (a root span when it is null or malformed).</summary>
    public static Activity? StartChildOf(string name, ActivityKind kind, string? traceParent) =>
        Source.StartActivity(name, kind, ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent) ? parent : default);
}
