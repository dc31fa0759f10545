using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Optimizer.Worker.Hosting.Prometheus;

/// <summary>
/// A pull reader: each <see cref="Scrape"/> collects every instrument once (cumulative, as Prometheus expects) and returns
/// the Prometheus text, which <see cref="WorkerEndpoints"/> serves on <c>/metrics</c>.
/// </summary>
public sealed class PrometheusScrapeReader : BaseExportingMetricReader
{
    private readonly TextExporter _exporter;
    private readonly Lock _lock = new();

    public PrometheusScrapeReader() : this(new TextExporter())
    {
    }

    private PrometheusScrapeReader(TextExporter exporter) : base(exporter)
    {
        _exporter = exporter;
        TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
    }

    /// <summary>The current values in the Prometheus text format; empty when the provider is gone.</summary>
    public string Scrape()
    {
        // One collection at a time: the exporter's buffer belongs to the collection in progress.
        lock (_lock)
        {
            _exporter.Text.Clear();
            return Collect(timeoutMilliseconds: 10_000) ? _exporter.Text.ToString() : "";
        }
    }

    /// <summary>
    /// Without an <c>ExportModes</c> attribute: a pull-only exporter is collected only through the SDK's internal pull
    /// interface, so <see cref="MetricReader.Collect"/> would export nothing. No timer drives this reader, so nothing pushes.
    /// </summary>
    private sealed class TextExporter : BaseExporter<Metric>
    {
        public StringBuilder Text { get; } = new();

        /// <summary>Metrics are only valid during the call: written out at once.</summary>
        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                PrometheusText.Write(Text, metric);
            }
            return ExportResult.Success;
        }
    }
}
