using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Optimizer.Domain.Webhooks;

/// <summary>
/// Signs a delivery as the Standard Webhooks specification says: <c>webhook-signature: v1,</c> + base64 of
/// HMAC-SHA256(base64-decoded secret, <c>"{webhook-id}.{webhook-timestamp}.{body}"</c>).
/// </summary>
public static class WebhookSignature
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    /// <summary>The header value (<c>v1,&lt;base64&gt;</c>) for one message at one timestamp (unix seconds).</summary>
    public static string Sign(string secret, string messageId, long timestamp, string body)
    {
        var signed = Encoding.UTF8.GetBytes($"{messageId}.{timestamp.ToString(CultureInfo.InvariantCulture)}.{body}");
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(WebhookSecret.KeyBytes(secret), signed));
    }
}
