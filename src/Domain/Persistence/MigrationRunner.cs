using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Optimizer.Domain.Persistence;

/// <summary>Applies the migrations once even when the Api and several workers start together.</summary>
/// <remarks>
/// EF Core decides which migrations are pending before it takes its own lock, so two processes starting
/// at the same moment can both try to apply the same migration ("relation … already exists", seen in CI).
/// A session-level PostgreSQL advisory lock around the whole <c>MigrateAsync</c> serializes them: the
/// second process waits, then finds nothing pending.
/// </remarks>
public static class MigrationRunner
{
    /// <summary>Arbitrary, fixed key of the advisory lock ("optimizer migrations").</summary>
    private const long LockKey = 0x6f70745f6d696772;

    public static async Task MigrateAsync(OptimizerDbContext db, CancellationToken cancellationToken = default)
    {
        var connectionString = db.Database.GetConnectionString()
            ?? throw new InvalidOperationException("The database has no connection string.");
        await EnsureDatabaseAsync(db, cancellationToken);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var acquire = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", connection))
        {
            await acquire.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            await db.Database.MigrateAsync(cancellationToken);
        }
        finally
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", connection);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>Creates the empty database when it is missing (as <c>MigrateAsync</c> would), tolerating a racing creator.</summary>
    private static async Task EnsureDatabaseAsync(OptimizerDbContext db, CancellationToken cancellationToken)
    {
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (await creator.ExistsAsync(cancellationToken))
        {
            return;
        }
        try
        {
            await creator.CreateAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another process created it first.
        }
    }
}
