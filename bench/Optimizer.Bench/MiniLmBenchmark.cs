using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Optimizer.Bench;

/// <summary>
/// The pretrained encoder: imports all-MiniLM-L6-v2 with the built Worker's <c>minilm</c> command, uploads it, and
/// prints method × bits → mean cosine of sentence embeddings to fp32, neighbour agreement, pair Spearman, size.
/// </summary>
internal static class MiniLmBenchmark
{
    private static readonly (string Method, object Params, string Label)[] s_cases =
    [
        ("rtn", new { bits = 8, group_size = 128 }, "rtn 8-bit g128"),
        ("fp8", new { format = "e4m3", granularity = "channel" }, "fp8 e4m3 per channel"),
        ("rtn", new { bits = 4, group_size = 32 }, "rtn 4-bit g32"),
        ("rtn", new { bits = 4, group_size = 128 }, "rtn 4-bit g128"),
        ("rtn", new { bits = 3, group_size = 32 }, "rtn 3-bit g32"),
    ];

    public static async Task RunAsync(ServiceApi api, string repositoryRoot)
    {
        var model = await api.UploadFolderAsync(await ImportAsync(repositoryRoot), "bench-minilm");
        var modelId = model["id"]!.GetValue<string>();
        Console.WriteLine("## all-MiniLM-L6-v2 (128 held-out Moby-Dick sentences against the fp32 original)");
        Console.WriteLine($"fp32: {model["size_bytes"]!.GetValue<long>() / 1048576.0:F1} MB");
        Console.WriteLine("| method | mean cosine | neighbour agreement | pair Spearman | size MB | verdict |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|");
        foreach (var (method, parameters, label) in s_cases)
        {
            var job = await api.WaitAsync((await api.SubmitAsync(new
            {
                type = "quantize",
                method,
                model_id = modelId,
                @params = parameters,
                evaluation = new { dataset_id = "ds_builtin_moby_dick_heldout" },
                name = $"bench-minilm-{label.Replace(' ', '-')}",
            }))["id"]!.GetValue<string>(), _ => false);
            if (job["status"]!.GetValue<string>() != "succeeded")
            {
                throw new InvalidOperationException("job did not succeed: " + job.ToJsonString());
            }
            var output = await api.GetAsync($"/v1/models/{job["output_model_id"]}");
            var report = await api.GetAsync($"/v1/reports/{job["report_id"]}");
            var metrics = report["metrics"]!;
            Console.WriteLine($"| {label} | {Metric(metrics, "encoder_mean_cosine"):F5} | {Metric(metrics, "encoder_neighbour_agreement"):F3} | " +
                $"{Metric(metrics, "encoder_pair_spearman"):F4} | {output["size_bytes"]!.GetValue<long>() / 1048576.0:F1} | {report["verdict"]} |");
        }
        Console.WriteLine();
    }

    private static double Metric(JsonNode metrics, string key) => metrics[key]?.GetValue<double>() ?? double.NaN;

    /// <summary>Runs <c>Optimizer.Worker minilm</c> from the build output; prints nothing but returns the model folder.</summary>
    private static async Task<string> ImportAsync(string root)
    {
        var dll = new[] { "release", "debug" }
            .Select(c => Path.Combine(root, "artifacts", "bin", "Optimizer.Worker", c, "Optimizer.Worker.dll"))
            .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("build the Worker first (scripts/up builds it)");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "minilm", "--out", Path.Combine(root, ".optimizer", "fixtures") })
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return process.ExitCode == 0 && lines.Length > 0
            ? lines[^1]
            : throw new InvalidOperationException($"worker minilm exited with {process.ExitCode}");
    }
}
