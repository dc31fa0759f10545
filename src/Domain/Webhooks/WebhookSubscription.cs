using Optimizer.Domain.Common;

namespace Optimizer.Domain.Webhooks;

/// <summary>A tenant's webhook endpoint: where events go, which ones, and the secret that signs them.</summary>
public sealed class WebhookSubscription
{
    public const int MaxUrlLength = 2000;
    public const int MaxDescriptionLength = 500;

    private WebhookSubscription()
    {
    }

    public WebhookSubscription(string tenantId, string url, IEnumerable<string> events, string? description)
    {
        Id = Ids.New("whk");
        TenantId = tenantId;
        Url = url;
        Events = [.. events.Distinct(StringComparer.Ordinal)];
        Description = description;
        Secret = WebhookSecret.New();
        Enabled = true;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    public string Id { get; private set; } = "";
    public string TenantId { get; private set; } = "";
    public string Url { get; private set; } = "";
    /// <summary>Event types delivered here (<see cref="WebhookEventTypes"/>).</summary>
    public List<string> Events { get; private set; } = [];
    public string? Description { get; private set; }
    /// <summary><c>whsec_</c> + base64; kept in clear because every delivery needs it as the HMAC key.</summary>
    public string Secret { get; private set; } = "";
    public bool Enabled { get; set; }
    public DateTimeOffset CreatedAt { get; private set; }

    public bool Wants(string eventType) => Enabled && Events.Contains(eventType, StringComparer.Ordinal);
}
