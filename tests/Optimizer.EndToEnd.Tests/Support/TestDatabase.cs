using Npgsql;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>A fresh, uniquely named database on the test PostgreSQL server, dropped afterwards.</summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _serverConnection;

    private TestDatabase(string serverConnection, string name)
    {
        _serverConnection = serverConnection;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnection) { Database = name }.ConnectionString;
    }

    public string Name { get; }
    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync(string serverConnection)
    {
        var database = new TestDatabase(serverConnection, "opt_e2e_" + Guid.NewGuid().ToString("N")[..12]);
        await database.ExecuteOnServerAsync($"CREATE DATABASE {database.Name}");
        return database;
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteOnServerAsync($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    private async Task ExecuteOnServerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_serverConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
