using Optimizer.Bench;

// Service benchmark against a running service (scripts/up --detach): dispatch latency, upload
// throughput and the Api's peak memory on a >= 1 GB upload, RTN time and perplexity per bit width,
// and the pretrained encoder (MiniLM): method × bits → sentence-embedding cosine to fp32, neighbour agreement, size.
var settings = BenchSettings.Load(args);
using var client = settings.CreateClient();
var api = new ServiceApi(client);

Console.WriteLine($"# Optimizer service benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
Console.WriteLine($"service: {settings.BaseUrl}");
Console.WriteLine();

var fixture = await api.UploadFolderAsync(Path.Combine(settings.FixtureDir, "model"), "bench-fixture");
await UploadBenchmark.RunAsync(api, settings);
await DispatchBenchmark.RunAsync(api, fixture, settings);
await RtnBenchmark.RunAsync(api, fixture);
await MiniLmBenchmark.RunAsync(api, settings.RepositoryRoot);
