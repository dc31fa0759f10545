using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Hosting;

/// <summary>
/// Where <see cref="WorkerEndpoints"/> listens, from <c>Worker:HealthPort</c> (probes, every interface: they come from the
/// kubelet or Docker, not from loopback), <c>Worker:MetricsPort</c> and <c>Worker:MetricsHost</c>. The same port for both
/// is one prefix on every interface; different ports are two prefixes.
/// </summary>
public sealed record WorkerHttpBindings(int? ProbePort, int? MetricsPort, IReadOnlyList<string> Prefixes)
{
    public const string MetricsPath = "/metrics";

    public static WorkerHttpBindings From(WorkerOptions options)
    {
        int? metrics = options.MetricsPort > 0 ? options.MetricsPort : null;
        var prefixes = new List<string>();
        if (options.HealthPort is { } probes)
        {
            prefixes.Add($"http://+:{probes}/");
        }
        if (metrics is { } port && port != options.HealthPort)
        {
            // "*" and "+" are HttpListener's wildcards; a name (localhost) answers requests addressed to that name.
            prefixes.Add($"http://{(options.MetricsHost is "*" or "+" ? "+" : options.MetricsHost)}:{port}/");
        }
        return new(options.HealthPort, metrics, prefixes);
    }

    /// <summary>The probes and the scrape answer on the same port.</summary>
    public bool SharePort => ProbePort is not null && ProbePort == MetricsPort;
}
