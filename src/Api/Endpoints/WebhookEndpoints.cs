using System.Security.Claims;
using Microsoft.Extensions.Options;
using Optimizer.Api.Auth;
using Optimizer.Api.Contracts.Common;
using Optimizer.Api.Contracts.Webhooks;
using Optimizer.Api.Extensions;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Api.Endpoints;

/// <summary>
/// Webhook subscriptions (Standard Webhooks): create, list, get, delete, deliveries, redeliver; and the deliveries to a
/// job's one-off <c>notify</c> URLs (<c>/v1/jobs/{id}/deliveries</c>).
/// </summary>
public static class WebhookEndpoints
{
    public static IEndpointRouteBuilder MapWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/webhooks").WithTags("Webhooks").RequireAuthorization(ApiPolicies.Tenant);
        group.MapPost("/", Create);
        group.MapGet("/", List);
        group.MapGet("/{id}", Get);
        group.MapDelete("/{id}", Delete);
        group.MapGet("/{id}/deliveries", Deliveries);
        group.MapPost("/{id}/deliveries/{deliveryId}/redeliver", Redeliver);
        app.MapGet("/v1/jobs/{id}/deliveries", JobDeliveries).WithTags("Jobs").RequireAuthorization(ApiPolicies.Tenant);
        return app;
    }

    [EndpointSummary("Subscribe a URL to events")]
    [EndpointDescription("201 with 'secret' (whsec_…, shown only here): deliveries carry webhook-id, webhook-timestamp and webhook-signature "
        + "(v1, + base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\" keyed with the base64-decoded secret). "
        + "400 for a malformed URL or unknown event; 422 when the host resolves to a loopback, link-local or private address "
        + "(unless Optimizer:Webhooks:AllowPrivateNetworks) or does not resolve.")]
    public static async Task<Results<Created<WebhookResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateWebhookRequest request, ClaimsPrincipal user, OptimizerDbContext db, IOptions<WebhookOptions> options,
        CancellationToken cancellationToken)
    {
        if (Validate(request) is { Count: > 0 } errors)
        {
            return TypedResults.ValidationProblem(errors, detail: "The subscription is invalid; nothing was stored.");
        }
        if (await NetworkGuard.CheckUrlAsync(request.Url!, options.Value.AllowPrivateNetworks, cancellationToken) is { } refused)
        {
            return TypedResults.Problem(detail: $"url: {refused}", statusCode: StatusCodes.Status422UnprocessableEntity, title: "Destination refused");
        }
        var subscription = new WebhookSubscription(user.TenantId(), request.Url!, request.Events is { } events ? events : WebhookEventTypes.All,
            request.Description);
        db.WebhookSubscriptions.Add(subscription);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/v1/webhooks/{subscription.Id}", WebhookResponse.From(subscription) with { Secret = subscription.Secret });
    }

    [EndpointSummary("List webhook subscriptions")]
    public static async Task<Results<Ok<Page<WebhookResponse>>, ValidationProblem>> List(
        ClaimsPrincipal user, OptimizerDbContext db, int? limit, string? after, CancellationToken cancellationToken)
    {
        if (Paging.Validate(limit) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var take = limit ?? Paging.DefaultLimit;
        var tenantId = user.TenantId();
        var query = db.WebhookSubscriptions.AsNoTracking().Where(s => s.TenantId == tenantId);
        if (!string.IsNullOrEmpty(after))
        {
            query = query.Where(s => string.Compare(s.Id, after) > 0);
        }
        var rows = await query.OrderBy(s => s.Id).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Paging.Create(rows, take, WebhookResponse.From, s => s.Id));
    }

    [EndpointSummary("Get a webhook subscription")]
    public static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> Get(
        string id, ClaimsPrincipal user, OptimizerDbContext db, CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        var subscription = await db.WebhookSubscriptions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id && s.TenantId == tenantId, cancellationToken);
        return subscription is null ? Problems.NotFound("webhook", id) : TypedResults.Ok(WebhookResponse.From(subscription));
    }

    [EndpointSummary("Delete a webhook subscription")]
    [EndpointDescription("Stops every delivery to it, pending retries included, and removes its delivery records.")]
    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string id, ClaimsPrincipal user, OptimizerDbContext db, CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        var deleted = await db.WebhookSubscriptions.Where(s => s.Id == id && s.TenantId == tenantId).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? Problems.NotFound("webhook", id) : TypedResults.NoContent();
    }

    [EndpointSummary("List a subscription's deliveries with their attempts")]
    [EndpointDescription("One delivery per event; 'webhook_id' is the webhook-id header (the same on every attempt). "
        + "status: pending (next_retry_at says when) | succeeded | failed (retries exhausted). Paged by id (?after=&limit=).")]
    public static async Task<Results<Ok<Page<WebhookDeliveryResponse>>, ValidationProblem, ProblemHttpResult>> Deliveries(
        string id, ClaimsPrincipal user, OptimizerDbContext db, int? limit, string? after, CancellationToken cancellationToken)
    {
        if (Paging.Validate(limit) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var tenantId = user.TenantId();
        if (!await db.WebhookSubscriptions.AnyAsync(s => s.Id == id && s.TenantId == tenantId, cancellationToken))
        {
            return Problems.NotFound("webhook", id);
        }
        return TypedResults.Ok(await PageAsync(db, db.WebhookDeliveries.Where(d => d.SubscriptionId == id), limit, after, cancellationToken));
    }

    [EndpointSummary("List the deliveries to a job's notify URLs with their attempts")]
    [EndpointDescription("The deliveries of the job's terminal event to each URL of its 'notify' list (signed with the job's "
        + "notify_secret), as /v1/webhooks/{id}/deliveries lists a subscription's. Paged by id (?after=&limit=).")]
    public static async Task<Results<Ok<Page<WebhookDeliveryResponse>>, ValidationProblem, ProblemHttpResult>> JobDeliveries(
        string id, ClaimsPrincipal user, OptimizerDbContext db, int? limit, string? after, CancellationToken cancellationToken)
    {
        if (Paging.Validate(limit) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var tenantId = user.TenantId();
        if (!await db.Jobs.AnyAsync(j => j.Id == id && j.TenantId == tenantId, cancellationToken))
        {
            return Problems.NotFound("job", id);
        }
        var notify = db.WebhookDeliveries.Where(d => d.JobId == id && d.TenantId == tenantId && d.SubscriptionId == null);
        return TypedResults.Ok(await PageAsync(db, notify, limit, after, cancellationToken));
    }

    /// <summary>One page of deliveries (by id) with their attempts.</summary>
    private static async Task<Page<WebhookDeliveryResponse>> PageAsync(OptimizerDbContext db, IQueryable<WebhookDelivery> deliveries,
        int? limit, string? after, CancellationToken cancellationToken)
    {
        var take = limit ?? Paging.DefaultLimit;
        var query = deliveries.AsNoTracking();
        if (!string.IsNullOrEmpty(after))
        {
            query = query.Where(d => string.Compare(d.Id, after) > 0);
        }
        var rows = await query.OrderBy(d => d.Id).Take(take + 1).ToListAsync(cancellationToken);
        var ids = rows.Select(d => d.Id).ToList();
        var attempts = (await db.WebhookAttempts.AsNoTracking().Where(a => ids.Contains(a.DeliveryId)).ToListAsync(cancellationToken))
            .ToLookup(a => a.DeliveryId);
        return Paging.Create(rows, take, d => WebhookDeliveryResponse.From(d, attempts[d.Id]), d => d.Id);
    }

    [EndpointSummary("Redeliver one delivery now")]
    [EndpointDescription("202: one more attempt is queued at once, with the same webhook-id and body (a new timestamp and signature). "
        + "It does not change the automatic retry schedule; a success marks the delivery succeeded.")]
    public static async Task<Results<Accepted<WebhookDeliveryResponse>, ProblemHttpResult>> Redeliver(
        string id, string deliveryId, ClaimsPrincipal user, OptimizerDbContext db, IWebhookQueue queue, ILogger<WebhookSubscription> logger,
        CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        var delivery = await db.WebhookDeliveries.AsNoTracking()
            .FirstOrDefaultAsync(d => d.Id == deliveryId && d.SubscriptionId == id && d.TenantId == tenantId, cancellationToken);
        if (delivery is null)
        {
            return Problems.NotFound("delivery", deliveryId);
        }
        try
        {
            queue.Enqueue(delivery.Id, autoAttempt: 0);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not queue a redelivery of {DeliveryId}", delivery.Id);
            return Problems.Unavailable("The delivery queue is not reachable; try again.");
        }
        var attempts = await db.WebhookAttempts.AsNoTracking().Where(a => a.DeliveryId == delivery.Id).ToListAsync(cancellationToken);
        return TypedResults.Accepted($"/v1/webhooks/{id}/deliveries", WebhookDeliveryResponse.From(delivery, attempts));
    }

    private static Dictionary<string, string[]> Validate(CreateWebhookRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Url) || request.Url.Length > WebhookSubscription.MaxUrlLength
            || !Uri.TryCreate(request.Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors["url"] = [$"url must be an absolute http or https URL of at most {WebhookSubscription.MaxUrlLength} characters."];
        }
        if (request.Events is { } events && (events.Count == 0 || events.Any(e => !WebhookEventTypes.All.Contains(e))))
        {
            errors["events"] = [$"events must be a non-empty list of: {string.Join(", ", WebhookEventTypes.All)} (omit it for all)."];
        }
        if (request.Description is { Length: > WebhookSubscription.MaxDescriptionLength })
        {
            errors["description"] = [$"description is at most {WebhookSubscription.MaxDescriptionLength} characters."];
        }
        return errors;
    }
}
