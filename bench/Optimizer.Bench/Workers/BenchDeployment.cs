using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Npgsql;

namespace Optimizer.Bench.Workers;

/// <summary>
/// A throw-away deployment for one measurement: a fresh database and blob container on the given PostgreSQL and
/// Azurite, the Api and <c>workers</c> worker processes (Release builds) on the same queues, and a tenant with a key.
/// </summary>
internal sealed class BenchDeployment : IAsyncDisposable
{
    private readonly List<BenchProcess> _processes = [];
    private readonly string _serverConnection;
    private readonly string _database;
    private readonly BlobContainerClient _container;

    private BenchDeployment(string serverConnection, string database, BlobContainerClient container, Uri baseAddress)
    {
        _serverConnection = serverConnection;
        _database = database;
        _container = container;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    public HttpClient Client { get; private set; } = null!;

    public static async Task<BenchDeployment> StartAsync(WorkerBenchSettings settings, int workers)
    {
        var database = "opt_bench_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(settings.PostgresServer, $"CREATE DATABASE {database}");
        var container = new BlobContainerClient(settings.Blob, "bench-" + Guid.NewGuid().ToString("N")[..12]);
        var deployment = new BenchDeployment(settings.PostgresServer, database, container, new Uri($"http://127.0.0.1:{FreePort()}"));
        var adminKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = new NpgsqlConnectionStringBuilder(settings.PostgresServer) { Database = database }.ConnectionString,
            ["ConnectionStrings__Blob"] = settings.Blob,
            ["Optimizer__BlobContainer"] = container.Name,
            ["Optimizer__AdminKey"] = adminKey,
            // The batch is submitted at once and polled: more than the default 8 active jobs and 600 requests a minute.
            ["Optimizer__MaxActiveJobsPerTenant"] = "1000",
            ["Optimizer__RateLimit__PermitsPerMinute"] = "1000000",
            ["Worker__Queues"] = "cpu,gpu",
            ["Worker__WorkDir"] = Path.Combine(settings.LogDir, "work"),
            ["Worker__CorpusDir"] = settings.CorpusDir,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        Directory.CreateDirectory(settings.LogDir);
        deployment._processes.Add(BenchProcess.Start(settings.ApiDll, environment, Path.Combine(settings.LogDir, $"api-{workers}.log"),
            "--urls", deployment.BaseAddress.ToString().TrimEnd('/')));
        var started = Enumerable.Range(1, workers).Select(i =>
            BenchProcess.Start(settings.WorkerDll, environment, Path.Combine(settings.LogDir, $"worker-{workers}-{i}.log"))).ToList();
        deployment._processes.AddRange(started);
        await deployment.WaitReadyAsync(started);
        deployment.Client = await deployment.CreateTenantClientAsync(adminKey);
        return deployment;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(_serverConnection, $"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
        await _container.DeleteIfExistsAsync();
    }

    private async Task WaitReadyAsync(List<BenchProcess> workers)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (true)
        {
            if (_processes.Any(p => p.HasExited))
            {
                throw new InvalidOperationException("A service process exited during start-up; see the logs under .optimizer/bench.");
            }
            if (workers.All(w => w.Serving) && await IsReadyAsync(http))
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The Api and workers did not become ready within 5 minutes.");
            }
            await Task.Delay(250);
        }
    }

    private static async Task<bool> IsReadyAsync(HttpClient http)
    {
        try
        {
            return (await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private async Task<HttpClient> CreateTenantClientAsync(string adminKey)
    {
        using var admin = new HttpClient { BaseAddress = BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        var tenant = await (await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "bench" })).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<JsonObject>();
        var key = await (await admin.PostAsync($"/v1/admin/tenants/{tenant!["id"]}/keys", null)).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<JsonObject>();
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key!["key"]!.GetValue<string>());
        return client;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
