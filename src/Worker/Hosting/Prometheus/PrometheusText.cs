using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Optimizer.Worker.Hosting.Prometheus;

/// <summary>
/// OpenTelemetry metrics in the Prometheus text format (0.0.4), named as OpenTelemetry's own Prometheus exporters name them:
/// dots become underscores, the unit is appended (<c>s</c> → <c>_seconds</c>, <c>By</c> → <c>_bytes</c>, <c>{…}</c>
/// annotations dropped), monotonic sums end in <c>_total</c>, histograms give <c>_bucket</c>/<c>_sum</c>/<c>_count</c>.
/// The Api's endpoint uses that exporter, so both processes' series follow one scheme.
/// </summary>
/// <remarks>Written here because that exporter's serializer is internal and its listener cannot share a port.</remarks>
internal static class PrometheusText
{
    private static readonly Dictionary<string, string> s_units = new(StringComparer.Ordinal)
    {
        ["s"] = "seconds", ["ms"] = "milliseconds", ["us"] = "microseconds", ["ns"] = "nanoseconds", ["min"] = "minutes",
        ["h"] = "hours", ["d"] = "days", ["By"] = "bytes", ["KiBy"] = "kibibytes", ["MiBy"] = "mebibytes", ["GiBy"] = "gibibytes",
        ["KBy"] = "kilobytes", ["MBy"] = "megabytes", ["GBy"] = "gigabytes", ["%"] = "percent", ["Hz"] = "hertz", ["V"] = "volts",
        ["A"] = "amperes", ["J"] = "joules", ["W"] = "watts", ["g"] = "grams", ["Cel"] = "celsius", ["m"] = "meters",
    };

    public static void Write(StringBuilder text, Metric metric)
    {
        var counter = metric.MetricType is MetricType.LongSum or MetricType.DoubleSum;
        var histogram = metric.MetricType == MetricType.Histogram;
        if (metric.MetricType == MetricType.ExponentialHistogram)
        {
            return; // not produced by the default views; the text format has no representation for it
        }
        var name = Name(metric.Name, metric.Unit, counter, gauge: !counter && !histogram);
        text.Append("# TYPE ").Append(name).Append(counter ? " counter\n" : histogram ? " histogram\n" : " gauge\n");
        if (!string.IsNullOrEmpty(metric.Description))
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(metric.Description.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
        }
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            var labels = Labels(point.Tags);
            if (histogram)
            {
                long cumulative = 0;
                foreach (var bucket in point.GetHistogramBuckets())
                {
                    cumulative += bucket.BucketCount;
                    var le = double.IsPositiveInfinity(bucket.ExplicitBound) ? "+Inf" : Number(bucket.ExplicitBound);
                    Sample(text, name + "_bucket", labels.Length == 0 ? $"le=\"{le}\"" : $"{labels},le=\"{le}\"", cumulative.ToString(CultureInfo.InvariantCulture));
                }
                Sample(text, name + "_sum", labels, Number(point.GetHistogramSum()));
                Sample(text, name + "_count", labels, point.GetHistogramCount().ToString(CultureInfo.InvariantCulture));
                continue;
            }
            var value = metric.MetricType switch
            {
                MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong().ToString(CultureInfo.InvariantCulture),
                MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => Number(point.GetSumDouble()),
                MetricType.LongGauge => point.GetGaugeLastValueLong().ToString(CultureInfo.InvariantCulture),
                _ => Number(point.GetGaugeLastValueDouble()),
            };
            Sample(text, name, labels, value);
        }
    }

    /// <summary>The series name: sanitized, unit appended unless already there, <c>_total</c> for counters.</summary>
    internal static string Name(string name, string? unit, bool counter, bool gauge)
    {
        var result = Sanitize(name);
        var suffix = UnitSuffix(unit, gauge);
        if (counter && result.EndsWith("_total", StringComparison.Ordinal))
        {
            result = result[..^"_total".Length];
        }
        if (suffix.Length > 0 && !result.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            result += "_" + suffix;
        }
        return counter ? result + "_total" : result;
    }

    private static string UnitSuffix(string? unit, bool gauge)
    {
        // Annotations in braces ("{job}", "{connection}") carry no unit.
        var bare = System.Text.RegularExpressions.Regex.Replace(unit ?? "", @"\{[^}]*\}", "").Trim();
        if (bare.Length == 0)
        {
            return "";
        }
        if (bare == "1")
        {
            return gauge ? "ratio" : "";
        }
        var parts = bare.Split('/', 2);
        var main = s_units.GetValueOrDefault(parts[0], parts[0]);
        var per = parts.Length == 2 ? s_units.GetValueOrDefault(parts[1], parts[1]) : null;
        return Sanitize(per is null ? main : $"{main}_per_{per}").Trim('_');
    }

    private static string Sanitize(string name)
    {
        var text = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            var ok = char.IsAsciiLetterOrDigit(c) || c is '_' or ':';
            if (ok || text.Length == 0 || text[^1] != '_')
            {
                text.Append(ok ? c : '_');
            }
        }
        return text.Length > 0 && char.IsAsciiDigit(text[0]) ? "_" + text : text.ToString();
    }

    private static string Labels(ReadOnlyTagCollection tags)
    {
        var labels = new List<string>();
        foreach (var tag in tags)
        {
            var value = Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "";
            labels.Add($"{Sanitize(tag.Key)}=\"{value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")}\"");
        }
        return string.Join(',', labels);
    }

    private static void Sample(StringBuilder text, string name, string labels, string value)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{').Append(labels).Append('}');
        }
        text.Append(' ').Append(value).Append('\n');
    }

    private static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
