using Microsoft.EntityFrameworkCore;
using Npgsql;
using Optimizer.Domain.Persistence;

namespace Optimizer.Api.Tests;

/// <summary>The Api and the workers migrate at start-up, often at the same moment (CI saw "relation already exists").</summary>
public sealed class MigrationRunnerTests
{
    [Fact]
    public async Task MigrateAsync_AppliesEveryMigrationOnce_WhenProcessesStartTogether()
    {
        var server = Environment.GetEnvironmentVariable("OPTIMIZER_TEST_PG")
            ?? throw new InvalidOperationException("OPTIMIZER_TEST_PG is not set: run the suite with scripts/test.");
        var name = "opt_test_migrate_" + Guid.NewGuid().ToString("N")[..10];
        await ExecuteAsync(server, $"CREATE DATABASE {name}");
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        try
        {
            var contexts = Enumerable.Range(0, 4).Select(_ => NewContext(connectionString)).ToList();
            await Task.WhenAll(contexts.Select(db => MigrationRunner.MigrateAsync(db)));

            Assert.Empty(await contexts[0].Database.GetPendingMigrationsAsync());
            var applied = (await contexts[0].Database.GetAppliedMigrationsAsync()).ToList();
            Assert.Equal(contexts[0].Database.GetMigrations(), applied);
            foreach (var db in contexts)
            {
                await db.DisposeAsync();
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(server, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        }
    }

    private static OptimizerDbContext NewContext(string connectionString)
    {
        var options = new DbContextOptionsBuilder<OptimizerDbContext>();
        PersistenceExtensions.Configure(options, connectionString);
        return new OptimizerDbContext(options.Options);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
