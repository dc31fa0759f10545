using System.Diagnostics;

namespace Optimizer.Domain.Telemetry;

/// <summary>The service's own spans (a job attempt, a webhook delivery attempt), exported with OTLP.</summary>
public static class OptimizerActivities
{
    public const string SourceName = "Optimizer";

    /// <summary>Static by design: an <see cref="ActivitySource"/> only produces spans while some provider listens to it.</summary>
    public static readonly ActivitySource Source = new(SourceName);
}
