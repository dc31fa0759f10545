using System.Globalization;

namespace Optimizer.Bench.Workers;

/// <summary>
/// What <c>bench/run workers</c> needs: a PostgreSQL server and Azurite (<c>OPTIMIZER_BENCH_PG</c>,
/// <c>OPTIMIZER_BENCH_BLOB</c>, set by bench/run from the <c>scripts/up</c> services), the Release builds, the fixture
/// model and corpora, the worker counts and the batch size.
/// </summary>
internal sealed record WorkerBenchSettings(string PostgresServer, string Blob, string ApiDll, string WorkerDll, string FixtureDir,
    string CorpusDir, string LogDir, IReadOnlyList<int> WorkerCounts, int Jobs)
{
    /// <summary>Arguments after <c>workers</c>: worker counts (default 1 2 4) and <c>--jobs N</c> (default 12).</summary>
    public static WorkerBenchSettings Load(string[] args)
    {
        var root = BenchSettings.FindRoot();
        var counts = new List<int>();
        var jobs = 12;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--jobs")
            {
                jobs = int.Parse(args[++i], CultureInfo.InvariantCulture);
            }
            else
            {
                counts.Add(int.Parse(args[i], CultureInfo.InvariantCulture));
            }
        }
        var (fixture, corpus) = BenchSettings.LocalPaths();
        return new WorkerBenchSettings(
            Require("OPTIMIZER_BENCH_PG"), Require("OPTIMIZER_BENCH_BLOB"),
            Path.Combine(root, "artifacts", "bin", "Optimizer.Api", "release", "Optimizer.Api.dll"),
            Path.Combine(root, "artifacts", "bin", "Optimizer.Worker", "release", "Optimizer.Worker.dll"),
            fixture, corpus, Path.Combine(root, ".optimizer", "bench", "workers"),
            counts.Count > 0 ? counts : [1, 2, 4], jobs);
    }

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run this benchmark through bench/run workers.");
}
