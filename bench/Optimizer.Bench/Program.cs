using Optimizer.Bench;
using Optimizer.Bench.FineTune;
using Optimizer.Bench.Prune;
using Optimizer.Bench.Quantize;

// `quantize [method...]`: the quantization quality table on the bench fixture model (trained on first use), in process
// (no service needed); with methods, only the rows whose method contains one of them.
if (args.Length > 0 && args[0] == "quantize")
{
    var paths = BenchSettings.BenchFixturePaths();
    return await QuantizeBenchmark.RunAsync(paths.FixtureDir, paths.CorpusDir, args[1..]);
}

// `latency`: decode ms per token, fp32 vs dequantized vs the low-bit kernels, on the test fixture and a random Llama, in process.
if (args.Length > 0 && args[0] == "latency")
{
    var paths = BenchSettings.LocalPaths();
    return await Optimizer.Bench.Latency.LatencyBenchmark.RunAsync(paths.FixtureDir, paths.CorpusDir);
}

// `prune`: the prune quality table on the fixture model, in process (no service needed).
if (args.Length > 0 && args[0] == "prune")
{
    await PruneBenchmark.RunAsync(PruneBenchSettings.Load(BenchSettings.FindRoot(), args), CancellationToken.None);
    return 0;
}

// `finetune`: LoRA / PiSSA / Bone on SOTU at equal budgets, then the merge table, in process (no service needed).
if (args.Length > 0 && args[0] == "finetune")
{
    var root = BenchSettings.FindRoot();
    var corpus = Environment.GetEnvironmentVariable("OPTIMIZER_CORPUS_DIR") is { Length: > 0 } dir
        ? dir
        : Path.Combine(root, ".optimizer", "npm", "node_modules");
    await FineTuneBenchmark.RunAsync(PruneBenchSettings.Load(root, ["finetune"]), corpus, CancellationToken.None);
    return 0;
}

// `workers [1 2 4] [--jobs N]`: throughput of several worker processes on this machine, each count on a fresh deployment.
if (args.Length > 0 && args[0] == "workers")
{
    return await Optimizer.Bench.Workers.WorkerScaleBenchmark.RunAsync(Optimizer.Bench.Workers.WorkerBenchSettings.Load(args[1..]));
}

// Service benchmark against a running service (scripts/up --detach): dispatch latency, upload
// throughput and the Api's peak memory on a >= 1 GB upload, RTN time and perplexity per bit width,
// and the pretrained encoder (MiniLM): method × bits → sentence-embedding cosine to fp32, neighbour agreement, size;
// or, with `load`, the bounded job-submission load test.
var settings = BenchSettings.Load(args);
using var client = settings.CreateClient();
var api = new ServiceApi(client);

Console.WriteLine($"# Optimizer service benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
Console.WriteLine($"service: {settings.BaseUrl}");
Console.WriteLine();

var fixture = await api.UploadFolderAsync(Path.Combine(settings.FixtureDir, "model"), "bench-fixture");
// `load [submissions] [concurrency]`: only the bounded submission load test.
if (args.Length > 0 && args[0] == "load")
{
    var submissions = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000;
    var concurrency = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 50;
    return await LoadBenchmark.RunAsync(client, fixture, submissions, concurrency);
}
await UploadBenchmark.RunAsync(api, settings);
await DispatchBenchmark.RunAsync(api, fixture, settings);
await RtnBenchmark.RunAsync(api, fixture);
await MiniLmBenchmark.RunAsync(api, settings.RepositoryRoot);
return 0;
