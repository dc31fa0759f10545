using System.Security.Cryptography;
using System.Text;
using Optimizer.Domain.Common;

namespace Optimizer.Domain.Tenancy;

/// <summary>A tenant's API key. Only the SHA-256 of the secret is stored; the secret is shown once.</summary>
public sealed class ApiKey
{
    private ApiKey()
    {
    }

    private ApiKey(string tenantId, string hash)
    {
        Id = Ids.New("key");
        TenantId = tenantId;
        Hash = hash;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    public string Id { get; private set; } = "";
    public string TenantId { get; private set; } = "";
    public string Hash { get; private set; } = "";
    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset? RevokedAt { get; private set; }

    /// <summary>Creates a key and returns it with its secret (<c>opt_…</c>), which is never stored.</summary>
    public static (ApiKey Key, string Secret) Issue(string tenantId)
    {
        var secret = "opt_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        return (new ApiKey(tenantId, HashSecret(secret)), secret);
    }

    /// <summary>Keys are random 192-bit secrets, so a plain SHA-256 (no salt, no stretching) is sufficient and lets lookups use an index.</summary>
    public static string HashSecret(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public void Revoke() => RevokedAt ??= DateTimeOffset.UtcNow;
}
