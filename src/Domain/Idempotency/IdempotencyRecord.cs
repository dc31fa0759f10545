namespace Optimizer.Domain.Idempotency;

/// <summary>
/// One <c>Idempotency-Key</c> a tenant used on a create endpoint: the hash of the request body it came with and
/// the resource it created. Keys are per tenant and per scope (e.g. <c>jobs</c>) and live for <see cref="Lifetime"/>.
/// </summary>
public sealed class IdempotencyRecord
{
    /// <summary>Longest accepted key (Stripe's limit).</summary>
    public const int MaxKeyLength = 255;

    /// <summary>Name of the (tenant, scope, key) primary key: violating it means a concurrent request with the key won.</summary>
    public const string PrimaryKeyName = "PK_idempotency_keys";

    /// <summary>How long a key is remembered; after that the same key creates a new resource.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    private IdempotencyRecord()
    {
    }

    public IdempotencyRecord(string tenantId, string scope, string key, string requestHash, string resourceId)
    {
        TenantId = tenantId;
        Scope = scope;
        Key = key;
        RequestHash = requestHash;
        ResourceId = resourceId;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    public string TenantId { get; private set; } = "";
    /// <summary>Which create endpoint the key was used on (<c>jobs</c>).</summary>
    public string Scope { get; private set; } = "";
    public string Key { get; private set; } = "";
    /// <summary>Lower-case hex SHA-256 of the canonical request body.</summary>
    public string RequestHash { get; private set; } = "";
    /// <summary>Id of the resource the first request created.</summary>
    public string ResourceId { get; private set; } = "";
    public DateTimeOffset CreatedAt { get; private set; }

    public bool IsExpired(DateTimeOffset now) => now - CreatedAt > Lifetime;
}
