using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Optimizer.Domain.Webhooks;

/// <summary>
/// A receiver's check of a Standard Webhooks delivery: the timestamp is recent, and one of the space-separated
/// <c>v1,</c> signatures matches the HMAC of the raw body. Written for receivers (and the tests), independent of
/// <see cref="WebhookSignature"/>.
/// </summary>
public static class WebhookVerifier
{
    /// <summary>How far a timestamp may be from now (the specification's suggested replay window).</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>True when the headers authenticate <paramref name="body"/> (the raw bytes as received, UTF-8).</summary>
    public static bool Verify(string secret, string? messageId, string? timestamp, string? signatureHeader, string body,
        DateTimeOffset? now = null, TimeSpan? tolerance = null)
    {
        if (string.IsNullOrEmpty(messageId) || string.IsNullOrEmpty(signatureHeader)
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return false;
        }
        var age = (now ?? DateTimeOffset.UtcNow) - DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (age.Duration() > (tolerance ?? DefaultTolerance))
        {
            return false;
        }
        using var hmac = new HMACSHA256(WebhookSecret.KeyBytes(secret));
        var expected = hmac.ComputeHash(Encoding.UTF8.GetBytes(messageId + "." + timestamp + "." + body));
        foreach (var candidate in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = candidate.IndexOf(',');
            if (comma < 0 || candidate[..comma] != "v1")
            {
                continue;
            }
            var given = new byte[expected.Length];
            if (Convert.TryFromBase64String(candidate[(comma + 1)..], given, out var written) && written == expected.Length
                && CryptographicOperations.FixedTimeEquals(given, expected))
            {
                return true;
            }
        }
        return false;
    }
}
