using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Optimizer.Api.Tests.Browser;
using Optimizer.Api.Tests.Infrastructure;
using Optimizer.Domain.Common;
using Optimizer.Domain.Reports;

namespace Optimizer.Api.Tests;

/// <summary>GET /v1/reports/{id}: JSON by default, a self-contained HTML page with Accept: text/html.</summary>
public sealed class ReportTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private const string Modules = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj";

    [Fact]
    public async Task Get_ReturnsJson_WhenAcceptIsJsonOrAbsent()
    {
        var tenant = await fixture.CreateTenantAsync();
        var report = await SaveAsync(tenant.TenantId, failing: true);

        var response = await tenant.Http.GetAsync($"/v1/reports/{report.Id}");

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("fail", body.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(4, body.RootElement.GetProperty("items")[1].GetProperty("children").GetArrayLength());
    }

    [Fact]
    public async Task Get_ReturnsSelfContainedHtml_WhenAcceptIsTextHtml()
    {
        var tenant = await fixture.CreateTenantAsync();
        var report = await SaveAsync(tenant.TenantId, failing: true);

        var html = await GetHtmlAsync(tenant.Http, report.Id);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        foreach (var external in new[] { "<script", "<link", "<img", "src=", "href=", "url(", "@import" })
        {
            Assert.DoesNotContain(external, html, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Contains("id=\"layer-error-chart\"", html, StringComparison.Ordinal);
        Assert.Contains("Does the output &lt;load&gt;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_Returns404ForHtml_WhenReportBelongsToAnotherTenant()
    {
        var owner = await fixture.CreateTenantAsync();
        var other = await fixture.CreateTenantAsync();
        var report = await SaveAsync(owner.TenantId, failing: false);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/reports/{report.Id}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        var response = await other.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>
    /// Renders the served page in headless Chromium: the verdict banner, the item tree (drill-down children nested
    /// under the failed item only) and the per-layer chart are laid out and visible, and the screenshot shows the
    /// verdict colour where the banner is and the over-threshold bar colour inside the chart.
    /// </summary>
    [Fact]
    public async Task HtmlReport_RendersVerdictTreeAndChart_InHeadlessChromium()
    {
        var tenant = await fixture.CreateTenantAsync();
        var failing = await SaveAsync(tenant.TenantId, failing: true);
        var passing = await SaveAsync(tenant.TenantId, failing: false);
        var folder = Directory.CreateTempSubdirectory("optimizer-report-html-").FullName;
        try
        {
            await using var browser = await HeadlessChromium.StartAsync(1200, 2400);
            await AssertPageAsync(browser, await SaveHtmlAsync(tenant.Http, failing.Id, folder), verdictText: "FAIL", ReportHtmlColours.Fail, failing: true);
            await AssertPageAsync(browser, await SaveHtmlAsync(tenant.Http, passing.Id, folder), verdictText: "PASS", ReportHtmlColours.Pass, failing: false);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task AssertPageAsync(HeadlessChromium browser, string path, string verdictText, (byte R, byte G, byte B) verdictColour, bool failing)
    {
        await browser.NavigateAsync(new Uri(path).AbsoluteUri);
        var layout = await browser.EvaluateAsync("""
            (() => {
              const box = s => { const r = document.querySelector(s).getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
              const failed = document.querySelector('li[data-id="quality.perplexity_within_tolerance"]');
              return {
                verdict: box('#verdict'), verdictText: document.querySelector('#verdict h1').textContent,
                items: box('#items'), chart: box('#layer-error-chart'), comparison: box('#comparison-chart'),
                topItems: document.querySelectorAll('#items > ul > li').length,
                blockChildren: failed.querySelectorAll(':scope > ul > li').length,
                moduleChildren: document.querySelectorAll('li[data-id="diagnostics.block_output_error.2"] > ul > li').length,
                passingBlockExpanded: document.querySelectorAll('li[data-id="diagnostics.block_output_error.0"] > ul').length,
                bars: document.querySelectorAll('#layer-error-chart rect').length,
                external: document.querySelectorAll('script, link, img, iframe, object').length,
              };
            })()
            """);
        Assert.Equal(verdictText, layout.GetProperty("verdictText").GetString());
        foreach (var box in new[] { "verdict", "items", "chart", "comparison" })
        {
            Assert.True(layout.GetProperty(box).GetProperty("w").GetDouble() > 100 && layout.GetProperty(box).GetProperty("h").GetDouble() > 30,
                $"{box} is not laid out: {layout.GetProperty(box)}");
        }
        Assert.Equal(4, layout.GetProperty("topItems").GetInt32());
        Assert.Equal(failing ? 4 : 0, layout.GetProperty("blockChildren").GetInt32());
        Assert.Equal(failing ? 7 : 0, layout.GetProperty("moduleChildren").GetInt32());
        Assert.Equal(0, layout.GetProperty("passingBlockExpanded").GetInt32());
        Assert.Equal(4, layout.GetProperty("bars").GetInt32());
        Assert.Equal(0, layout.GetProperty("external").GetInt32());

        var image = PngImage.Decode(await browser.ScreenshotAsync());
        Assert.True(DistinctColours(image) > 50, "the screenshot is (nearly) blank");
        var verdict = Region(layout.GetProperty("verdict"));
        Assert.True(Fraction(image, verdict, verdictColour) > 0.6, $"the verdict banner is not mostly {verdictColour}");
        var chart = Region(layout.GetProperty("chart"));
        Assert.True(Fraction(image, chart, ReportHtmlColours.Bar) > 0.005, "no under-threshold bar in the chart");
        Assert.Equal(failing, Fraction(image, chart, ReportHtmlColours.Fail) > 0.005);
    }

    private static (int X, int Y, int W, int H) Region(JsonElement box) => (
        (int)box.GetProperty("x").GetDouble(), (int)box.GetProperty("y").GetDouble(),
        (int)box.GetProperty("w").GetDouble(), (int)box.GetProperty("h").GetDouble());

    private static double Fraction(PngImage image, (int X, int Y, int W, int H) region, (byte R, byte G, byte B) colour)
    {
        long match = 0, total = 0;
        for (var y = Math.Max(0, region.Y); y < Math.Min(image.Height, region.Y + region.H); y++)
        {
            for (var x = Math.Max(0, region.X); x < Math.Min(image.Width, region.X + region.W); x++)
            {
                var p = image.Pixel(x, y);
                total++;
                if (Math.Abs(p.R - colour.R) <= 6 && Math.Abs(p.G - colour.G) <= 6 && Math.Abs(p.B - colour.B) <= 6)
                {
                    match++;
                }
            }
        }
        return total == 0 ? 0 : (double)match / total;
    }

    private static int DistinctColours(PngImage image)
    {
        var colours = new HashSet<int>();
        for (var y = 0; y < image.Height; y += 3)
        {
            for (var x = 0; x < image.Width; x += 3)
            {
                var p = image.Pixel(x, y);
                colours.Add((p.R << 16) | (p.G << 8) | p.B);
            }
        }
        return colours.Count;
    }

    private static async Task<string> GetHtmlAsync(HttpClient client, string reportId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/reports/{reportId}");
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<string> SaveHtmlAsync(HttpClient client, string reportId, string folder)
    {
        var path = Path.Combine(folder, reportId + ".html");
        await File.WriteAllTextAsync(path, await GetHtmlAsync(client, reportId));
        return path;
    }

    /// <summary>A report with four top-level items; when failing, perplexity fails with block and module drill-down children.</summary>
    private async Task<Report> SaveAsync(string tenantId, bool failing)
    {
        double[] blockErrors = failing ? [0.01, 0.03, 0.21, 0.02] : [0.01, 0.02, 0.03, 0.02];
        var blocks = failing
            ? blockErrors.Select((e, b) => Item($"diagnostics.block_output_error.{b}", $"Is block {b}'s relative output error at most 5 %?", e <= 0.05,
                e <= 0.05 ? [] : [.. Modules.Split(',').Select((m, k) => Item($"diagnostics.module_output_error.{b}.{m}", $"Is block {b}'s {m} error at most 5 %?", k != 2, []))]))
                .ToList()
            : [];
        ReportItem[] items =
        [
            Item("integrity.all_tensors_finite", "Is every value finite?", true, []),
            Item("quality.perplexity_within_tolerance", "Is the perplexity at most 5 % higher than the baseline's?", !failing, blocks),
            Item("integrity.output_loads_and_runs", "Does the output <load> and run?", true, []),
            Item("task.choices_accuracy", "Is the multiple-choice accuracy above chance?", true, []),
        ];
        var metrics = new Dictionary<string, object?>
        {
            ["perplexity"] = failing ? 31.5 : 25.4,
            ["baseline_perplexity"] = 25.0,
            ["size_bytes"] = 9_000_000L,
            ["baseline_size_bytes"] = 28_886_048L,
            ["block_output_errors"] = blockErrors,
            ["esd_alpha"] = new Dictionary<string, double> { ["model.layers.0.mlp.down_proj.weight"] = 3.1 },
        };
        var report = new Report(tenantId, "job_" + Guid.NewGuid().ToString("N"), "mdl_candidate", "mdl_baseline")
        {
            Verdict = failing ? "fail" : "pass",
            Score = failing ? 0.6 : 1.0,
            ItemsTotal = items.Length,
            ItemsPassed = items.Count(i => i.Answer),
            MetricsJson = JsonSerializer.Serialize(metrics, OptimizerJson.Options),
            ItemsJson = JsonSerializer.Serialize(items, OptimizerJson.Options),
        };
        await fixture.WithDbAsync(async db =>
        {
            db.Reports.Add(report);
            return await db.SaveChangesAsync();
        });
        return report;
    }

    private static ReportItem Item(string id, string question, bool yes, IReadOnlyList<ReportItem> children) =>
        new(id, question, id.Split('.')[0], yes, new Dictionary<string, object?> { ["measured"] = 1.0 }, 1.0, id.StartsWith("integrity", StringComparison.Ordinal), children);
}

/// <summary>The colours the page uses, as RGB (ReportHtml / SvgCharts).</summary>
internal static class ReportHtmlColours
{
    public static (byte R, byte G, byte B) Pass => Rgb(Optimizer.Api.Reports.ReportHtml.PassColour);
    public static (byte R, byte G, byte B) Fail => Rgb(Optimizer.Api.Reports.ReportHtml.FailColour);
    public static (byte R, byte G, byte B) Bar => Rgb(Optimizer.Api.Reports.SvgCharts.Candidate);

    private static (byte, byte, byte) Rgb(string hex) =>
        (Convert.ToByte(hex[1..3], 16), Convert.ToByte(hex[3..5], 16), Convert.ToByte(hex[5..7], 16));
}
