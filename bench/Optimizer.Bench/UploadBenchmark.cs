using System.Diagnostics;

namespace Optimizer.Bench;

/// <summary>
/// Upload throughput and the Api's resident memory while it streams a large safetensors file:
/// memory must stay flat whatever the file size, so two sizes are measured side by side.
/// </summary>
internal static class UploadBenchmark
{
    public static async Task RunAsync(ServiceApi api, BenchSettings settings)
    {
        Console.WriteLine("## Upload (streamed to blob storage, SHA-256 and header validation while streaming)");
        Console.WriteLine("| file size | seconds | MB/s | Api RSS before (MB) | Api peak RSS during (MB) | growth (MB) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var bytes in new[] { settings.UploadBytes / 4, settings.UploadBytes })
        {
            var folder = CreateModel(bytes);
            try
            {
                var before = Rss(settings.ApiPid);
                using var sampler = new RssSampler(settings.ApiPid);
                var clock = Stopwatch.StartNew();
                var model = await api.UploadFilesAsync(Directory.GetFiles(folder), "bench-upload");
                clock.Stop();
                var peak = sampler.Stop();
                var size = model["size_bytes"]!.GetValue<long>();
                Console.WriteLine($"| {size / 1048576.0:F0} MB | {clock.Elapsed.TotalSeconds:F1} | {size / 1048576.0 / clock.Elapsed.TotalSeconds:F0} | {Mb(before)} | {Mb(peak)} | {Mb(peak - before)} |");
                await api.DeleteAsync($"/v1/models/{model["id"]}");
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        if (settings.ApiPid is null)
        {
            Console.WriteLine("(Api pid unknown: .optimizer/run/api.pid missing, memory columns empty)");
        }
        Console.WriteLine();
    }

    /// <summary>A valid model folder whose one tensor makes the safetensors file about <paramref name="bytes"/> long (sparse on disk).</summary>
    private static string CreateModel(long bytes)
    {
        var folder = Directory.CreateTempSubdirectory("optimizer-bench-").FullName;
        const int columns = 1024;
        var rows = bytes / (columns * 4);
        File.WriteAllText(Path.Combine(folder, "config.json"),
            """{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":1024,"num_hidden_layers":0,"num_attention_heads":8,"vocab_size":""" + rows + "}");
        var header = $$$"""{"model.embed_tokens.weight":{"dtype":"F32","shape":[{{{rows}}},{{{columns}}}],"data_offsets":[0,{{{rows * columns * 4}}}]}}""";
        var padded = header.PadRight((header.Length + 7) / 8 * 8);
        using var file = File.Create(Path.Combine(folder, "model.safetensors"));
        file.Write(BitConverter.GetBytes((ulong)padded.Length));
        file.Write(System.Text.Encoding.UTF8.GetBytes(padded));
        file.SetLength(8 + padded.Length + rows * columns * 4);
        return folder;
    }

    internal static long Rss(int? pid)
    {
        if (pid is null || !File.Exists($"/proc/{pid}/status"))
        {
            return 0;
        }
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("F0");

    /// <summary>Samples the Api's RSS every 20 ms on a background thread and keeps the maximum.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task<long> _task;

        public RssSampler(int? pid)
        {
            _task = Task.Run(async () =>
            {
                long peak = 0;
                while (!_stop.IsCancellationRequested)
                {
                    peak = Math.Max(peak, Rss(pid));
                    await Task.Delay(20);
                }
                return peak;
            });
        }

        public long Stop()
        {
            _stop.Cancel();
            return _task.GetAwaiter().GetResult();
        }

        public void Dispose() => _stop.Dispose();
    }
}
