using System.Security.Cryptography;

namespace Optimizer.Domain.Webhooks;

/// <summary>Standard Webhooks secrets: <c>whsec_</c> + base64 of 32 random bytes.</summary>
public static class WebhookSecret
{
    public const string Prefix = "whsec_";

    public static string New() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The HMAC key: the base64 after the prefix, decoded (a secret without the prefix is accepted too).</summary>
    /// <exception cref="FormatException">The secret is not base64.</exception>
    public static byte[] KeyBytes(string secret) =>
        Convert.FromBase64String(secret.StartsWith(Prefix, StringComparison.Ordinal) ? secret[Prefix.Length..] : secret);
}
