using System.Diagnostics;
using System.Net.Http.Headers;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>
/// The service exactly as a user starts it: <c>scripts/up --detach</c>, with its own state folder
/// (<c>.optimizer/test/examples</c>) and free ports, so it never meets scripts/test's or a developer's services, on
/// the build scripts/test just made (<c>--no-build</c>: no second build). Webhooks to loopback are allowed (the
/// receiver runs here). <c>scripts/down</c> always runs at the end, also when the start fails.
/// </summary>
public sealed class ScriptsUpInstance : IAsyncLifetime
{
    private static readonly TimeSpan s_upTimeout = TimeSpan.FromMinutes(4);

    private readonly string _stateDir = Path.Combine(TestEnvironment.RepositoryRoot, ".optimizer", "test", "examples");

    /// <summary>What the examples get: the env file scripts/up wrote (URL, key, fixture folder), nothing else.</summary>
    public IReadOnlyDictionary<string, string> ExampleEnvironment => new Dictionary<string, string>
    {
        ["OPTIMIZER_ENV_FILE"] = EnvFile,
    };

    public string EnvFile => Path.Combine(_stateDir, "run", "env");
    public string Url { get; private set; } = "";
    public string ApiKey { get; private set; } = "";
    public string FixtureDir { get; private set; } = "";
    /// <summary>How long scripts/up took (printed by the test, for the suite's budget).</summary>
    public TimeSpan UpDuration { get; private set; }

    /// <summary>The Api and worker logs, for failure messages.</summary>
    public string Logs => string.Concat(new[] { "api.log", "worker.log" }.Select(name =>
    {
        var path = Path.Combine(_stateDir, "local", "logs", name);
        var text = File.Exists(path) ? File.ReadAllText(path) : "(none)";
        return $"\n--- {name} ---\n{(text.Length > 6000 ? text[^6000..] : text)}";
    }));

    public async ValueTask InitializeAsync()
    {
        // Fresh state each run: a database left by an earlier run would only hide start-up work.
        if (Directory.Exists(_stateDir))
        {
            await RunScriptAsync("scripts/down");
            Directory.Delete(_stateDir, recursive: true);
        }
        var started = Stopwatch.StartNew();
        var (exitCode, up) = await ExampleProcess.RunAsync("scripts/up", UpEnvironment(), s_upTimeout, "--detach", "--no-build");
        UpDuration = started.Elapsed;
        if (exitCode != 0)
        {
            var logs = Logs;
            await RunScriptAsync("scripts/down");
            Assert.Fail($"scripts/up --detach exited with {exitCode}\n{up.Output}{logs}");
        }
        var values = File.ReadAllLines(EnvFile).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1].Trim('\''));
        Url = values["OPTIMIZER_URL"];
        ApiKey = values["OPTIMIZER_API_KEY"];
        FixtureDir = values["OPTIMIZER_FIXTURE_DIR"];
    }

    public HttpClient CreateClient()
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        var (exitCode, down) = await RunScriptAsync("scripts/down");
        Assert.True(exitCode == 0, $"scripts/down exited with {exitCode}\n{down.Output}");
    }

    private Task<(int, ExampleProcess)> RunScriptAsync(string script) =>
        ExampleProcess.RunAsync(script, UpEnvironment(), TimeSpan.FromMinutes(2));

    private Dictionary<string, string> UpEnvironment()
    {
        // The configuration scripts/test built (the newest build output, as the other end-to-end tests use).
        var configuration = Path.GetFileName(Path.GetDirectoryName(ServiceProcess.FindBuildOutput("Optimizer.Api")))!;
        return new Dictionary<string, string>
        {
            ["OPTIMIZER_STATE_DIR"] = _stateDir,
            ["OPTIMIZER_CONFIGURATION"] = configuration,
            ["OPTIMIZER_PORT"] = Ports.Free().ToString(),
            ["OPTIMIZER_PG_PORT"] = Ports.Free().ToString(),
            ["OPTIMIZER_BLOB_PORT"] = Ports.Free().ToString(),
            ["OPTIMIZER_FIXTURE_DIR"] = TestEnvironment.FixtureDir,
            ["Optimizer__Webhooks__AllowPrivateNetworks"] = "true",
        };
    }
}
