using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using Optimizer.Domain.Common;
using Optimizer.Domain.Idempotency;

namespace Optimizer.Api.Idempotency;

/// <summary>
/// The <c>Idempotency-Key</c> header: checking it, hashing the request it came with, and finding what an
/// earlier request with the same key created. The record is inserted together with the resource (see
/// <see cref="Jobs.JobSubmitter"/>), so the table's primary key is what stops concurrent duplicates.
/// </summary>
public static class IdempotencyKeys
{
    public const string HeaderName = "Idempotency-Key";

    /// <summary>Set to <c>true</c> on a response that replays the resource an earlier request created.</summary>
    public const string ReplayedHeaderName = "Idempotent-Replayed";

    /// <summary>Null when the key is acceptable (visible ASCII, 1-255 characters), else why not.</summary>
    public static string? Check(string key) =>
        key.Length is 0 or > IdempotencyRecord.MaxKeyLength || key.Any(c => c is < '!' or > '~')
            ? $"{HeaderName} must be 1-{IdempotencyRecord.MaxKeyLength} visible ASCII characters."
            : null;

    /// <summary>SHA-256 of the request re-serialized in the wire convention, so whitespace and escapes do not matter.</summary>
    public static string HashRequest<T>(T request) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request, OptimizerJson.Options)));

    /// <summary>The live record for this key (an expired one is deleted first, so the key can be reused).</summary>
    public static async Task<IdempotencyRecord?> FindAsync(OptimizerDbContext db, string tenantId, string scope, string key,
        CancellationToken cancellationToken)
    {
        var cutoff = DateTimeOffset.UtcNow - IdempotencyRecord.Lifetime;
        await db.IdempotencyKeys
            .Where(r => r.TenantId == tenantId && r.Scope == scope && r.Key == key && r.CreatedAt < cutoff)
            .ExecuteDeleteAsync(cancellationToken);
        return await db.IdempotencyKeys.AsNoTracking()
            .FirstOrDefaultAsync(r => r.TenantId == tenantId && r.Scope == scope && r.Key == key, cancellationToken);
    }

    /// <summary>True when a save failed because another request inserted the same key first.</summary>
    public static bool IsDuplicateKey(DbUpdateException exception) =>
        exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg
        && pg.ConstraintName == IdempotencyRecord.PrimaryKeyName;
}

/// <summary>Thrown when a concurrent request with the same <c>Idempotency-Key</c> stored its resource first.</summary>
public sealed class DuplicateIdempotencyKeyException(Exception inner)
    : Exception("Another request with this Idempotency-Key was stored first.", inner);
