using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using Optimizer.Domain.Telemetry;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Hosting.Prometheus;

namespace Optimizer.Worker.Hosting;

/// <summary>
/// The worker's telemetry: the shared metrics and JSON logs, and a Prometheus scrape endpoint of its own
/// (<c>http://{Worker:MetricsHost}:{Worker:MetricsPort}/metrics</c>, see <see cref="WorkerEndpoints"/>) when a port is configured.
/// </summary>
/// <remarks>
/// The worker is a generic host without Kestrel, so <see cref="WorkerEndpoints"/> serves it from the HttpListener of the probes. It is off by
/// default (port 0): several worker processes on one machine would fight over one fixed port. Containers and pods set
/// <c>Worker__MetricsPort=9464</c> (the exporter's conventional port) and <c>Worker__MetricsHost=*</c>.
/// </remarks>
public static class WorkerTelemetry
{
    public static IHostApplicationBuilder AddWorkerTelemetry(this IHostApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection("Worker").Get<WorkerOptions>() ?? new WorkerOptions();
        builder.AddOptimizerTelemetry("optimizer-worker", m =>
        {
            if (settings.MetricsPort > 0)
            {
                // Pulled by WorkerEndpoints on each GET /metrics.
                m.AddReader(sp => sp.GetRequiredService<PrometheusScrapeReader>());
            }
        });
        if (settings.MetricsPort > 0)
        {
            builder.Services.AddSingleton<PrometheusScrapeReader>();
        }
        return builder;
    }
}
