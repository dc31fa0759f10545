using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>
/// The whole service as <c>scripts/up</c> runs it: the real Api and one real Worker process on a fresh
/// database and blob container of the test PostgreSQL and Azurite, with a tenant and API key.
/// </summary>
public class ServiceFixture : IAsyncLifetime
{
    private readonly List<ServiceProcess> _workers = [];
    private Dictionary<string, string> _environment = [];
    private TestDatabase? _database;
    private string _workDir = "";

    /// <summary>False for fixtures whose tests start (and kill) their own workers with <see cref="StartWorker"/>.</summary>
    protected virtual bool StartsWorker => true;

    /// <summary>The PostgreSQL server the fixture's database lives on: the suite's shared one unless a fixture owns its own.</summary>
    protected virtual Task<string> StartPostgresAsync() => Task.FromResult(TestEnvironment.Postgres);

    /// <summary>Stops a PostgreSQL server the fixture owns (after its database is dropped).</summary>
    protected virtual ValueTask StopPostgresAsync() => ValueTask.CompletedTask;

    /// <summary>More settings (environment variables) for both processes.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();

    internal ServiceProcess Api { get; private set; } = null!;
    /// <summary>The worker started with the fixture (null when <see cref="StartsWorker"/> is false).</summary>
    internal ServiceProcess? Worker { get; private set; }
    internal TestDatabase Database => _database!;
    public BlobContainerClient Container { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public string AdminKey { get; } = "adm_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    public string ApiKey { get; private set; } = "";
    public string TenantId { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(await StartPostgresAsync());
        var containerName = "e2e-" + Guid.NewGuid().ToString("N")[..12];
        Container = new BlobContainerClient(TestEnvironment.Blob, containerName);
        _workDir = Directory.CreateTempSubdirectory("optimizer-e2e-").FullName;
        var port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = _database.ConnectionString,
            ["ConnectionStrings__Blob"] = TestEnvironment.Blob,
            ["Optimizer__BlobContainer"] = containerName,
            ["Optimizer__AdminKey"] = AdminKey,
            ["Worker__Queues"] = "cpu,gpu",
            ["Worker__WorkDir"] = _workDir,
            ["Worker__CorpusDir"] = TestEnvironment.CorpusDir,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        foreach (var (key, value) in Settings)
        {
            environment[key] = value;
        }
        _environment = environment;
        Api = ServiceProcess.Start("Optimizer.Api", environment, "--urls", BaseAddress.ToString().TrimEnd('/'));
        if (StartsWorker)
        {
            Worker = StartWorker();
        }
        await WaitReadyAsync();
        await CreateTenantAsync();
    }

    /// <summary>Starts one more worker process on this fixture's database and storage; <paramref name="settings"/> override the defaults.</summary>
    internal ServiceProcess StartWorker(IReadOnlyDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>(_environment);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
        var worker = ServiceProcess.Start("Optimizer.Worker", environment);
        lock (_workers)
        {
            _workers.Add(worker);
        }
        return worker;
    }

    /// <summary>A client authenticated with the tenant's key.</summary>
    public HttpClient CreateClient(string? key = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key ?? ApiKey);
        return client;
    }

    /// <summary>What both processes printed, for failure messages.</summary>
    public string Logs
    {
        get
        {
            lock (_workers)
            {
                return $"--- api ---\n{Tail(Api.Output)}" + string.Concat(_workers.Select((w, i) => $"\n--- worker {i + 1} ---\n{Tail(w.Output)}"));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }
        try
        {
            await Container.DeleteIfExistsAsync();
        }
        catch (Azure.RequestFailedException)
        {
            // Azurite gone already: nothing left to clean.
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        await StopPostgresAsync();
        if (Directory.Exists(_workDir))
        {
            Directory.Delete(_workDir, recursive: true);
        }
    }

    /// <summary>Waits until <c>/readyz</c> answers 200 (PostgreSQL, blob store and Hangfire reachable) or fails after 2 minutes.</summary>
    internal async Task WaitReadyAsync()
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            if (Api.HasExited || (Worker?.HasExited ?? false))
            {
                throw new InvalidOperationException("A service process exited during start-up.\n" + Logs);
            }
            try
            {
                var response = await client.GetAsync("/readyz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow start-up; try again.
            }
            await Task.Delay(250);
        }
        throw new TimeoutException("The Api did not become ready within 2 minutes.\n" + Logs);
    }

    private async Task CreateTenantAsync()
    {
        using var admin = CreateClient(AdminKey);
        var tenantResponse = await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "e2e" });
        var tenant = await ReadJsonAsync(tenantResponse, HttpStatusCode.Created);
        TenantId = tenant["id"]!.GetValue<string>();
        var keyResponse = await admin.PostAsync($"/v1/admin/tenants/{TenantId}/keys", null);
        ApiKey = (await ReadJsonAsync(keyResponse, HttpStatusCode.Created))["key"]!.GetValue<string>();
    }

    public async Task<JsonObject> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}, expected {(int)expected}: {body}\n{Logs}");
        return JsonNode.Parse(body)!.AsObject();
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : text[^6000..];

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
