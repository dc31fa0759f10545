using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Optimizer.Domain.Reports;

namespace Optimizer.Api.Reports;

/// <summary>
/// Renders a report as one self-contained HTML page (API.md, Evaluation reports): inline CSS and inline SVG, no
/// script and no external asset, so it can be archived as a CI artifact and opened anywhere.
/// </summary>
/// <remarks>
/// Layout: a verdict banner (green pass / red fail) with the score, the items as a tree (children under the item
/// whose failure added them) with their evidence, the per-layer error chart and the perplexity/size comparison
/// with the baseline. Element ids (<c>verdict</c>, <c>items</c>, <c>layer-errors</c>, <c>comparison</c>) are stable
/// for tools that scrape the page.
/// </remarks>
public static class ReportHtml
{
    public const string PassColour = "#1a7f37";
    public const string FailColour = "#cf222e";

    /// <summary>Relative error drawn as the chart's threshold line (the drill-down's block threshold).</summary>
    public const double BlockErrorThreshold = 0.05;

    public static string Render(Report report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var metricsDoc = JsonDocument.Parse(report.MetricsJson);
        using var itemsDoc = JsonDocument.Parse(report.ItemsJson);
        var metrics = metricsDoc.RootElement;
        var pass = report.Verdict == "pass";
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append(CultureInfo.InvariantCulture, $"<title>Report {E(report.Id)}: {E(report.Verdict)}</title>")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>").Append(Css).Append("</style></head><body>");
        html.Append(CultureInfo.InvariantCulture,
            $"<header id=\"verdict\" class=\"verdict {(pass ? "pass" : "fail")}\"><h1>{(pass ? "PASS" : "FAIL")}</h1>")
            .Append(CultureInfo.InvariantCulture,
                $"<p class=\"score\">score {report.Score.ToString("0.###", CultureInfo.InvariantCulture)} · {report.ItemsPassed} of {report.ItemsTotal} items yes</p>")
            .Append(CultureInfo.InvariantCulture,
                $"<p class=\"ids\">report {E(report.Id)} · job {E(report.JobId)} · model {E(report.ModelId)} · baseline {E(report.BaselineModelId ?? "none")} · {report.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC</p></header>");
        html.Append("<main><section id=\"items\"><h2>Items</h2><ul class=\"tree\">");
        foreach (var item in itemsDoc.RootElement.EnumerateArray())
        {
            AppendItem(html, item);
        }
        html.Append("</ul></section>");
        html.Append("<section id=\"comparison\"><h2>Against the baseline</h2>").Append(ComparisonChart(metrics)).Append("</section>");
        html.Append("<section id=\"layer-errors\"><h2>Per-layer output error</h2>").Append(LayerErrorChart(metrics)).Append("</section>");
        if (AlphaChart(metrics) is { } alpha)
        {
            html.Append("<section id=\"esd-alpha\"><h2>ESD alpha per linear (FARMS)</h2>").Append(alpha).Append("</section>");
        }
        html.Append("<section id=\"metrics\"><h2>Metrics</h2><table>");
        foreach (var property in metrics.EnumerateObject().Where(p => p.Value.ValueKind is JsonValueKind.Number or JsonValueKind.String or JsonValueKind.True or JsonValueKind.False))
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><th>{E(property.Name)}</th><td>{E(Scalar(property.Value))}</td></tr>");
        }
        return html.Append("</table></section></main></body></html>").ToString();
    }

    private static void AppendItem(StringBuilder html, JsonElement item)
    {
        var yes = item.GetProperty("answer").GetBoolean();
        var critical = item.TryGetProperty("critical", out var c) && c.ValueKind == JsonValueKind.True;
        html.Append(CultureInfo.InvariantCulture, $"<li class=\"item {(yes ? "yes" : "no")}\" data-id=\"{E(item.GetProperty("id").GetString() ?? "")}\">")
            .Append(CultureInfo.InvariantCulture, $"<span class=\"mark\">{(yes ? "✔ yes" : "✘ no")}</span> ")
            .Append(CultureInfo.InvariantCulture, $"<span class=\"question\">{E(item.GetProperty("question").GetString() ?? "")}</span>")
            .Append(CultureInfo.InvariantCulture, $" <span class=\"tag\">{E(item.GetProperty("category").GetString() ?? "")}</span>")
            .Append(critical ? " <span class=\"tag critical\">critical</span>" : "");
        if (item.TryGetProperty("evidence", out var evidence) && evidence.ValueKind == JsonValueKind.Object)
        {
            html.Append("<dl class=\"evidence\">");
            foreach (var entry in evidence.EnumerateObject().Where(e => e.Value.ValueKind != JsonValueKind.Null))
            {
                html.Append(CultureInfo.InvariantCulture, $"<dt>{E(entry.Name)}</dt><dd>{E(Scalar(entry.Value))}</dd>");
            }
            html.Append("</dl>");
        }
        if (item.TryGetProperty("children", out var children) && children.GetArrayLength() > 0)
        {
            html.Append("<ul class=\"tree\">");
            foreach (var child in children.EnumerateArray())
            {
                AppendItem(html, child);
            }
            html.Append("</ul>");
        }
        html.Append("</li>");
    }

    private static string ComparisonChart(JsonElement metrics)
    {
        var rows = new List<(string, double?, double, string)>();
        if (Number(metrics, "perplexity") is { } ppl)
        {
            rows.Add(("perplexity", Number(metrics, "baseline_perplexity"), ppl, ""));
        }
        if (Number(metrics, "size_bytes") is { } size)
        {
            rows.Add(("size", Number(metrics, "baseline_size_bytes") / (1 << 20), size / (1 << 20), "MiB"));
        }
        if (Number(metrics, "task_accuracy") is { } accuracy)
        {
            rows.Add(("choice accuracy", Number(metrics, "baseline_task_accuracy"), accuracy, ""));
        }
        return rows.Count == 0 ? "<p class=\"none\">Nothing to compare.</p>" : SvgCharts.Comparison("comparison-chart", "Model against baseline", rows);
    }

    private static string LayerErrorChart(JsonElement metrics)
    {
        if (!metrics.TryGetProperty("block_output_errors", out var errors) || errors.ValueKind != JsonValueKind.Array || errors.GetArrayLength() == 0)
        {
            return "<p class=\"none\">Not measured (needs a causal LM and a baseline of the same shape).</p>";
        }
        var bars = errors.EnumerateArray().Select((e, i) => ($"block {i}", e.ValueKind == JsonValueKind.Number ? e.GetDouble() : 0)).ToList();
        return SvgCharts.Bars("layer-error-chart", "Relative output error per block against the baseline", bars, BlockErrorThreshold);
    }

    private static string? AlphaChart(JsonElement metrics)
    {
        if (!metrics.TryGetProperty("esd_alpha", out var alpha) || alpha.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var labels = alpha.EnumerateObject().Select(p => p.Name).ToList();
        var baseline = metrics.TryGetProperty("baseline_esd_alpha", out var b) && b.ValueKind == JsonValueKind.Object ? b : default;
        return SvgCharts.Series("esd-alpha-chart", "ESD alpha per linear: model (blue), baseline (grey)", labels,
            [.. labels.Select(l => (double?)alpha.GetProperty(l).GetDouble())],
            [.. labels.Select(l => baseline.ValueKind == JsonValueKind.Object && baseline.TryGetProperty(l, out var v) ? v.GetDouble() : (double?)null)]);
    }

    private static double? Number(JsonElement metrics, string name) =>
        metrics.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static string Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => SvgCharts.F(value.GetDouble()),
        JsonValueKind.String => value.GetString() ?? "",
        _ => value.GetRawText(),
    };

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#24292f;background:#fff}
        .verdict{padding:20px 32px;color:#fff}.verdict.pass{background:#1a7f37}.verdict.fail{background:#cf222e}
        .verdict h1{margin:0;font-size:40px;letter-spacing:2px}.verdict p{margin:4px 0}.ids{opacity:.85;font-size:13px}
        main{padding:8px 32px 32px;max-width:1100px}h2{border-bottom:1px solid #d0d7de;padding-bottom:4px}
        ul.tree{list-style:none;padding-left:20px;border-left:2px solid #d0d7de}main>section>ul.tree{border-left:none;padding-left:0}
        li.item{margin:8px 0}.mark{font-weight:700}.yes>.mark{color:#1a7f37}.no>.mark{color:#cf222e}
        .tag{font-size:11px;border:1px solid #d0d7de;border-radius:8px;padding:0 6px;color:#57606a}.tag.critical{border-color:#cf222e;color:#cf222e}
        dl.evidence{display:grid;grid-template-columns:max-content 1fr;gap:0 12px;margin:4px 0 0 24px;font-size:12px;color:#57606a}
        dl.evidence dd{margin:0;white-space:pre-wrap;word-break:break-word}
        svg.chart{width:100%;max-width:640px;height:auto;display:block;border:1px solid #d0d7de;border-radius:6px}
        table{border-collapse:collapse;font-size:13px}th,td{text-align:left;padding:2px 12px 2px 0}.none{color:#57606a}
        """;
}
