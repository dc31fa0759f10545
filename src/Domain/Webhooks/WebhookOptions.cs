using System.Globalization;

namespace Optimizer.Domain.Webhooks;

/// <summary>The <c>Optimizer:Webhooks</c> configuration section, read by the Api and the Worker.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Optimizer:Webhooks";

    /// <summary>Standard Webhooks' schedule: after the first attempt, retries 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h later.</summary>
    public const string DefaultRetryDelays = "5s,5m,30m,2h,5h,10h,10h";

    /// <summary>
    /// Comma-separated waits before each retry (<c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c> suffixes); the number of
    /// entries is the number of retries, so attempts = entries + 1.
    /// </summary>
    public string RetryDelays { get; set; } = DefaultRetryDelays;

    /// <summary>How long a receiver may take to answer (default 15 s); a timeout counts as a failed attempt.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Allow loopback, link-local and private destinations (local development and tests only).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Public base URL of the Api (e.g. <c>https://optimizer.example</c>) for links in payloads; relative links when unset.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Parallel deliveries in one Worker (its <c>webhooks</c> Hangfire server).</summary>
    public int WorkerCount { get; set; } = 4;

    /// <summary>The parsed <see cref="RetryDelays"/>.</summary>
    /// <exception cref="FormatException">An entry is not a number with a unit.</exception>
    public IReadOnlyList<TimeSpan> RetrySchedule() =>
        [.. RetryDelays.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseDelay)];

    private static TimeSpan ParseDelay(string text)
    {
        var unit = text.EndsWith("ms", StringComparison.Ordinal) ? "ms" : text[^1..];
        if (!double.TryParse(text[..^unit.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            throw new FormatException($"Bad webhook retry delay '{text}' (expected e.g. 500ms, 5s, 5m, 2h).");
        }
        return unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(value),
            "s" => TimeSpan.FromSeconds(value),
            "m" => TimeSpan.FromMinutes(value),
            "h" => TimeSpan.FromHours(value),
            _ => throw new FormatException($"Bad webhook retry delay '{text}' (expected e.g. 500ms, 5s, 5m, 2h)."),
        };
    }
}
