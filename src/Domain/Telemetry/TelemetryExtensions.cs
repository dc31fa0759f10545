using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Optimizer.Domain.Telemetry;

/// <summary>What the Api and the Worker share: OpenTelemetry metrics (and traces with OTLP) and JSON console logs.</summary>
public static class TelemetryExtensions
{
    /// <summary>The standard variable (read by the OTLP exporter itself); when it is unset nothing is pushed.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Metrics from the <c>Optimizer</c> meter, the HTTP client, Npgsql and the runtime, plus whatever
    /// <paramref name="metrics"/> adds (a Prometheus reader, ASP.NET Core); traces (Npgsql, HTTP client, the
    /// <c>Optimizer</c> activity source, plus <paramref name="tracing"/>) and logs are exported only with
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, so a plain deployment pays nothing for spans nobody collects.
    /// </summary>
    public static IHostApplicationBuilder AddOptimizerTelemetry(this IHostApplicationBuilder builder, string serviceName,
        Action<MeterProviderBuilder> metrics, Action<TracerProviderBuilder>? tracing = null)
    {
        builder.AddJsonConsoleLogs();
        builder.Services.AddOptimizerMetrics();
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName, serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}"))
            .WithMetrics(m =>
            {
                m.AddMeter(OptimizerMetrics.MeterName).AddHttpClientInstrumentation().AddRuntimeInstrumentation().AddNpgsqlInstrumentation();
                metrics(m);
            });
        if (!string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointKey]))
        {
            otel.WithTracing(t =>
            {
                t.AddSource(OptimizerActivities.SourceName).AddHttpClientInstrumentation().AddNpgsql();
                tracing?.Invoke(t);
            });
            builder.Logging.AddOpenTelemetry(o => o.IncludeScopes = true);
            otel.UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>The <see cref="OptimizerMetrics"/> instruments (and the meter factory they need) without any exporter.</summary>
    public static IServiceCollection AddOptimizerMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<OptimizerMetrics>();
        return services;
    }

    /// <summary>
    /// One JSON object per line on the console, with scopes (job id, tenant id, request id) and UTC timestamps. JSON is the
    /// default; <c>Logging:Console:FormatterName</c> (<c>Logging__Console__FormatterName=simple</c>) switches to text.
    /// </summary>
    public static IHostApplicationBuilder AddJsonConsoleLogs(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddConsole();
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName ??= ConsoleFormatterNames.Json);
        builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        builder.Services.Configure<SimpleConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        return builder;
    }
}
