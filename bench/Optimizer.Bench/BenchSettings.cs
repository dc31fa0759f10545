using System.Net.Http.Headers;
using Optimizer.Worker.Fixtures;

namespace Optimizer.Bench;

/// <summary>Where the service runs and how big the upload is; read from <c>.optimizer/run/env</c> (written by <c>scripts/up --detach</c>).</summary>
internal sealed record BenchSettings(string BaseUrl, string ApiKey, string FixtureDir, int? ApiPid, long UploadBytes, int DispatchSamples,
    string RepositoryRoot)
{
    public static BenchSettings Load(string[] args)
    {
        var root = FindRoot();
        var env = ReadEnvFile(Path.Combine(root, ".optimizer", "run", "env"));
        string Get(string key) => Environment.GetEnvironmentVariable(key) ?? env.GetValueOrDefault(key)
            ?? throw new InvalidOperationException($"{key} not set: start the service with scripts/up --detach first.");
        var pidFile = Path.Combine(root, ".optimizer", "run", "api.pid");
        int? pid = File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var p) ? p : null;
        var gigabytes = args.Length > 0 && double.TryParse(args[0], out var gb) ? gb : 1.0;
        return new BenchSettings(Get("OPTIMIZER_URL"), Get("OPTIMIZER_API_KEY"), Get("OPTIMIZER_FIXTURE_DIR"), pid,
            (long)(gigabytes * 1024 * 1024 * 1024), DispatchSamples: 5, root);
    }

    /// <summary>
    /// The fixture model folder and the npm corpora of this checkout, for in-process benchmarks: <c>OPTIMIZER_FIXTURE_DIR</c>
    /// and <c>OPTIMIZER_CORPUS_DIR</c> when set, else <c>.optimizer/fixtures/&lt;newest&gt;</c> and <c>.optimizer/npm/node_modules</c>.
    /// </summary>
    public static (string FixtureDir, string CorpusDir) LocalPaths()
    {
        var root = FindRoot();
        var fixtures = new DirectoryInfo(Path.Combine(root, ".optimizer", "fixtures"));
        var fixture = Environment.GetEnvironmentVariable("OPTIMIZER_FIXTURE_DIR")
            ?? (fixtures.Exists
                ? fixtures.GetDirectories().Where(d => File.Exists(Path.Combine(d.FullName, "fixture.json")))
                    .OrderByDescending(d => d.LastWriteTimeUtc).Select(d => d.FullName).FirstOrDefault()
                : null);
        var corpus = Environment.GetEnvironmentVariable("OPTIMIZER_CORPUS_DIR") ?? Path.Combine(root, ".optimizer", "npm", "node_modules");
        if (fixture is null || !Directory.Exists(corpus))
        {
            throw new InvalidOperationException("No fixture model or corpus: run scripts/test once (it builds the fixture), or set OPTIMIZER_FIXTURE_DIR and OPTIMIZER_CORPUS_DIR.");
        }
        return (fixture, corpus);
    }

    /// <summary>
    /// The bench-only fixture (<see cref="FixtureRecipe.Bench"/>: compact vocabulary, decoder linears hold most weights) and
    /// the npm corpora: <c>OPTIMIZER_BENCH_FIXTURE_DIR</c> when set, else <c>.optimizer/fixtures/bench/&lt;hash&gt;</c>, trained
    /// there on first use (about 10 minutes on 2 idle cores; <c>scripts/test</c> never trains it).
    /// </summary>
    public static (string FixtureDir, string CorpusDir) BenchFixturePaths()
    {
        var root = FindRoot();
        var corpus = Environment.GetEnvironmentVariable("OPTIMIZER_CORPUS_DIR") ?? Path.Combine(root, ".optimizer", "npm", "node_modules");
        if (!Directory.Exists(corpus))
        {
            throw new InvalidOperationException($"No corpus at {corpus}: run scripts/test once (it installs the npm corpora), or set OPTIMIZER_CORPUS_DIR.");
        }
        if (Environment.GetEnvironmentVariable("OPTIMIZER_BENCH_FIXTURE_DIR") is { Length: > 0 } set)
        {
            return (set, corpus);
        }
        Console.Error.WriteLine("bench fixture: cached under .optimizer/fixtures/bench; the first run trains it");
        return (FixtureCommand.Ensure(FixtureRecipe.Bench, corpus, Path.Combine(root, ".optimizer", "fixtures", "bench")), corpus);
    }

    public HttpClient CreateClient()
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromMinutes(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return client;
    }

    private static Dictionary<string, string> ReadEnvFile(string path) =>
        File.Exists(path)
            ? File.ReadAllLines(path).Select(l => l.Split('=', 2)).Where(p => p.Length == 2)
                .ToDictionary(p => p[0].Trim(), p => p[1].Trim().Trim('"', '\''))
            : [];

    /// <summary>The repository root (the folder holding Optimizer.sln), searched upwards from the current directory.</summary>
    public static string FindRoot()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Optimizer.sln")))
            {
                return dir.FullName;
            }
        }
        return Environment.CurrentDirectory;
    }
}
