using System.Globalization;
using System.Net;
using System.Text;

namespace Optimizer.Api.Reports;

/// <summary>Small inline SVG charts for the HTML report: no script, no external asset, sized by viewBox.</summary>
public static class SvgCharts
{
    public const string Candidate = "#0969da";
    public const string Baseline = "#8c959f";
    public const string Over = "#cf222e";

    /// <summary>Vertical bars (one per label) with a dashed threshold line; bars above the threshold are red.</summary>
    public static string Bars(string id, string title, IReadOnlyList<(string Label, double Value)> bars, double threshold)
    {
        const double width = 640, height = 240, left = 56, bottom = 36, top = 16;
        var max = Math.Max(threshold * 1.25, bars.Count == 0 ? 1 : bars.Max(b => b.Value));
        var plot = height - bottom - top;
        var slot = (width - left - 8) / Math.Max(1, bars.Count);
        var svg = Open(id, title, width, height);
        Axis(svg, left, top, plot, max);
        for (var i = 0; i < bars.Count; i++)
        {
            var (label, value) = bars[i];
            var h = plot * value / max;
            var x = left + i * slot + slot * 0.15;
            svg.Append(Rect(x, top + plot - h, slot * 0.7, h, value > threshold ? Over : Candidate, $"{label}: {F(value)}"));
            svg.Append(Text(x + slot * 0.35, height - bottom + 16, label, "middle"));
        }
        var ty = top + plot - plot * threshold / max;
        svg.Append(CultureInfo.InvariantCulture,
            $"<line x1=\"{F(left)}\" y1=\"{F(ty)}\" x2=\"{F(width - 8)}\" y2=\"{F(ty)}\" stroke=\"#bf8700\" stroke-dasharray=\"6 4\"/>");
        svg.Append(Text(width - 10, ty - 4, $"threshold {F(threshold)}", "end"));
        return svg.Append("</svg>").ToString();
    }

    /// <summary>Pairs of horizontal bars, baseline (grey) above the model (blue), each pair on its own scale.</summary>
    public static string Comparison(string id, string title, IReadOnlyList<(string Label, double? Baseline, double Model, string Unit)> rows)
    {
        const double width = 640, rowHeight = 64, left = 130;
        var height = 16 + rows.Count * rowHeight;
        var svg = Open(id, title, width, height);
        for (var r = 0; r < rows.Count; r++)
        {
            var (label, baseline, model, unit) = rows[r];
            var y = 12 + r * rowHeight;
            var max = Math.Max(model, baseline ?? 0);
            max = max > 0 ? max : 1;
            var span = width - left - 150;
            svg.Append(Text(8, y + 24, label, "start"));
            if (baseline is { } b)
            {
                svg.Append(Rect(left, y, span * b / max, 18, Baseline, $"baseline {F(b)} {unit}"));
                svg.Append(Text(left + span * b / max + 6, y + 14, $"baseline {F(b)} {unit}", "start"));
            }
            svg.Append(Rect(left, y + 22, span * model / max, 18, Candidate, $"model {F(model)} {unit}"));
            svg.Append(Text(left + span * model / max + 6, y + 36, $"model {F(model)} {unit}", "start"));
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>Two series of points over the same x positions (e.g. ESD alpha per linear, baseline vs model).</summary>
    public static string Series(string id, string title, IReadOnlyList<string> labels, IReadOnlyList<double?> model, IReadOnlyList<double?> baseline)
    {
        const double width = 640, height = 220, left = 56, bottom = 24, top = 12;
        var values = model.Concat(baseline).OfType<double>().ToList();
        var max = values.Count == 0 ? 1 : values.Max() * 1.1;
        var plot = height - bottom - top;
        var step = (width - left - 8) / Math.Max(1, labels.Count);
        var svg = Open(id, title, width, height);
        Axis(svg, left, top, plot, max);
        foreach (var (series, colour) in new[] { (baseline, Baseline), (model, Candidate) })
        {
            for (var i = 0; i < series.Count; i++)
            {
                if (series[i] is { } v)
                {
                    svg.Append(CultureInfo.InvariantCulture,
                        $"<circle cx=\"{F(left + (i + 0.5) * step)}\" cy=\"{F(top + plot - plot * v / max)}\" r=\"3.5\" fill=\"{colour}\"><title>{Esc(labels[i])}: {F(v)}</title></circle>");
                }
            }
        }
        return svg.Append("</svg>").ToString();
    }

    private static StringBuilder Open(string id, string title, double width, double height) => new StringBuilder()
        .Append(CultureInfo.InvariantCulture,
            $"<svg id=\"{id}\" class=\"chart\" role=\"img\" viewBox=\"0 0 {F(width)} {F(height)}\" xmlns=\"http://www.w3.org/2000/svg\">")
        .Append(CultureInfo.InvariantCulture, $"<title>{Esc(title)}</title>");

    private static void Axis(StringBuilder svg, double left, double top, double plot, double max)
    {
        svg.Append(CultureInfo.InvariantCulture,
            $"<line x1=\"{F(left)}\" y1=\"{F(top)}\" x2=\"{F(left)}\" y2=\"{F(top + plot)}\" stroke=\"#57606a\"/>");
        foreach (var fraction in new[] { 0.0, 0.5, 1.0 })
        {
            svg.Append(Text(left - 6, top + plot - plot * fraction + 4, F(max * fraction), "end"));
        }
    }

    private static string Rect(double x, double y, double w, double h, string fill, string tip) => string.Create(CultureInfo.InvariantCulture,
        $"<rect x=\"{F(x)}\" y=\"{F(y)}\" width=\"{F(Math.Max(w, 1))}\" height=\"{F(Math.Max(h, 1))}\" fill=\"{fill}\"><title>{Esc(tip)}</title></rect>");

    private static string Text(double x, double y, string text, string anchor) => string.Create(CultureInfo.InvariantCulture,
        $"<text x=\"{F(x)}\" y=\"{F(y)}\" text-anchor=\"{anchor}\" font-size=\"12\" fill=\"#24292f\">{Esc(text)}</text>");

    /// <summary>Numbers with at most 4 significant digits, invariant culture.</summary>
    public static string F(double value) => value.ToString(Math.Abs(value) >= 1000 ? "0" : "0.####", CultureInfo.InvariantCulture);

    private static string Esc(string text) => WebUtility.HtmlEncode(text);
}
