using System.Net.Http.Headers;
using System.Net.Http.Json;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Storage;

namespace Optimizer.Api.Tests.Infrastructure;

/// <summary>
/// The Api on real PostgreSQL and Azurite (<c>OPTIMIZER_TEST_PG</c>, <c>OPTIMIZER_TEST_BLOB</c>), with its own
/// database and blob container, both removed afterwards. Tests create their own tenants, so they never depend on each other.
/// </summary>
public class ApiFixture : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminKey = "test-admin-key";

    private readonly string _suffix = Guid.NewGuid().ToString("N")[..12];
    private readonly string _serverConnection = Require("OPTIMIZER_TEST_PG");
    private readonly string _blobConnection = Require("OPTIMIZER_TEST_BLOB");

    /// <summary>Error-level entries the host logged (shown by tests that fail on a 5xx).</summary>
    public ErrorLog Errors { get; } = new();

    public string DatabaseName => $"opt_test_{_suffix}";
    public string ContainerName => $"test-{_suffix}";
    public string ConnectionString => new NpgsqlConnectionStringBuilder(_serverConnection) { Database = DatabaseName }.ConnectionString;

    /// <summary>Upload limit of this host (a derived fixture sets a small one).</summary>
    protected virtual long MaxUploadBytes => 64L * 1024 * 1024;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureLogging(logging => logging.AddProvider(Errors));
        builder.UseSetting("ConnectionStrings:Postgres", ConnectionString);
        builder.UseSetting("ConnectionStrings:Blob", _blobConnection);
        builder.UseSetting("Optimizer:AdminKey", AdminKey);
        builder.UseSetting("Optimizer:BlobContainer", ContainerName);
        builder.UseSetting("Optimizer:MaxUploadBytes", MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public ValueTask InitializeAsync()
    {
        // Starting the server runs the migrations and prepares Hangfire's schema in the fresh database.
        _ = Server;
        return ValueTask.CompletedTask;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using (var connection = new NpgsqlConnection(_serverConnection))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{DatabaseName}\" WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }
        await new BlobContainerClient(_blobConnection, ContainerName).DeleteIfExistsAsync();
        GC.SuppressFinalize(this);
    }

    public HttpClient AdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    /// <summary>A new tenant with one key, and a client that sends that key.</summary>
    public async Task<TenantClient> CreateTenantAsync(string name = "test")
    {
        using var admin = AdminClient();
        var tenant = await (await admin.PostAsJsonAsync("/v1/admin/tenants", new { name })).Content.ReadFromJsonAsync<IdName>();
        var key = await (await admin.PostAsync($"/v1/admin/tenants/{tenant!.Id}/keys", null)).Content.ReadFromJsonAsync<IdKey>();
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key!.Key);
        return new TenantClient(tenant.Id, key.Id, key.Key, client);
    }

    public async Task<T> WithDbAsync<T>(Func<OptimizerDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<OptimizerDbContext>());
    }

    public Task<IReadOnlyList<string>> BlobsUnderAsync(string prefix) =>
        Services.GetRequiredService<IArtifactStore>().ListAsync(prefix, CancellationToken.None);

    /// <summary>Rows of Hangfire's own job table (proof that something was, or was not, enqueued).</summary>
    public async Task<long> HangfireJobCountAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM hangfire.job", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests through scripts/test, which starts PostgreSQL and Azurite and sets it.");

    private sealed record IdName(string Id, string Name);

    private sealed record IdKey(string Id, string Key);
}

/// <summary>A tenant, its key and a client authenticated with it.</summary>
public sealed record TenantClient(string TenantId, string KeyId, string Key, HttpClient Http);

/// <summary>The same host with a 64 KiB upload limit.</summary>
public sealed class SmallUploadLimitFixture : ApiFixture
{
    public const long Limit = 64 * 1024;

    protected override long MaxUploadBytes => Limit;
}
