using System.Security.Cryptography;
using System.Text;

namespace Optimizer.Domain.Webhooks;

/// <summary>Deterministic ids of job events, so that publishing an event twice names the same message and rows.</summary>
public static class WebhookIds
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    /// <summary>The <c>webhook-id</c> of one event of one job (<c>msg_…</c>), the same for every destination.</summary>
    public static string Message(string jobId, string eventType) => "msg_" + Hash($"{jobId}|{eventType}", 24);

    /// <summary>
    /// The delivery id (<c>dlv_…</c>) of one event to one destination. Starts with the event time in hex milliseconds
    /// like <see cref="Common.Ids"/>, so ids sort by time and serve as list cursors.
    /// </summary>
    public static string Delivery(string jobId, string eventType, string destination, DateTimeOffset eventTime) =>
        $"dlv_{eventTime.ToUnixTimeMilliseconds():x12}{Hash($"{jobId}|{eventType}|{destination}", 10)}";

    /// <summary>The destination key of a subscription or of a job's notify URL.</summary>
    public static string Destination(string? subscriptionId, string url) => subscriptionId ?? "notify:" + url;

    private static string Hash(string text, int length)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = Alphabet[digest[i] & 31];
        }
        return new string(chars);
    }
}
