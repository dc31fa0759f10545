using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Storage;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Hosting;

namespace Optimizer.Worker.Tests.Support;

/// <summary>
/// The worker's execution services against real PostgreSQL and Azurite (env <c>OPTIMIZER_TEST_PG</c>,
/// <c>OPTIMIZER_TEST_BLOB</c>), with a fresh database and container per instance, both removed on dispose.
/// </summary>
public sealed class WorkerServices : IAsyncDisposable
{
    private readonly string _serverConnection;
    private readonly string _database;

    private WorkerServices(string serverConnection, string database, ServiceProvider provider, IArtifactStore store, string workDir,
        string connectionString, string blobConnection, string container)
    {
        ConnectionString = connectionString;
        BlobConnection = blobConnection;
        Container = container;
        _serverConnection = serverConnection;
        _database = database;
        Provider = provider;
        Store = store;
        WorkDir = workDir;
    }

    /// <summary>Connection string of this instance's own database.</summary>
    public string ConnectionString { get; }
    public string BlobConnection { get; }
    public string Container { get; }
    public ServiceProvider Provider { get; }
    public IArtifactStore Store { get; }
    public string WorkDir { get; }

    public static async Task<WorkerServices> StartAsync(Action<IServiceCollection>? configure = null)
    {
        var pg = Require("OPTIMIZER_TEST_PG", "PostgreSQL server connection string");
        var blob = Require("OPTIMIZER_TEST_BLOB", "Azurite connection string");
        var database = "opt_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(pg))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
            await command.ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(pg) { Database = database }.ConnectionString;
        var container = "opt-test-" + Guid.NewGuid().ToString("N")[..12];
        var store = BlobArtifactStore.Create(blob, container);
        var workDir = Path.Combine(Path.GetTempPath(), "optimizer-worker-tests-" + Guid.NewGuid().ToString("N"));
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddOptimizerDb(connectionString);
        services.AddSingleton<IArtifactStore>(store);
        services.AddSingleton(Options.Create(new WorkerOptions
        {
            WorkDir = workDir,
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
            CorpusDir = Environment.GetEnvironmentVariable("OPTIMIZER_CORPUS_DIR"),
        }));
        services.AddWorkerExecution();
        configure?.Invoke(services);
        var provider = services.BuildServiceProvider();
        await using (var scope = provider.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<OptimizerDbContext>().Database.MigrateAsync();
        }
        return new WorkerServices(pg, database, provider, store, workDir, connectionString, blob, container);
    }

    public OptimizerDbContext NewDb() => new(Provider.GetRequiredService<DbContextOptions<OptimizerDbContext>>());

    public async ValueTask DisposeAsync()
    {
        await Provider.DisposeAsync();
        try
        {
            await Store.DeletePrefixAsync("", CancellationToken.None);
        }
        catch (Exception)
        {
            // Best effort: the container is unique to this run.
        }
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_serverConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
        if (Directory.Exists(WorkDir))
        {
            Directory.Delete(WorkDir, recursive: true);
        }
    }

    private static string Require(string name, string what)
    {
        var value = Environment.GetEnvironmentVariable(name);
        Assert.False(string.IsNullOrWhiteSpace(value),
            $"Environment variable {name} ({what}) is not set; run the tests through scripts/test, which prepares it.");
        return value!;
    }
}
