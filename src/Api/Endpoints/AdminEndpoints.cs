using Microsoft.AspNetCore.Mvc;
using Optimizer.Api.Auth;
using Optimizer.Api.Contracts.Admin;
using Optimizer.Domain.Tenancy;

namespace Optimizer.Api.Endpoints;

/// <summary>Tenants and keys; the admin key (<c>Optimizer:AdminKey</c>) only.</summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin").WithTags("Admin").RequireAuthorization(ApiPolicies.Admin);
        group.MapPost("/tenants", CreateTenant);
        group.MapPost("/tenants/{id}/keys", CreateKey);
        group.MapDelete("/keys/{id}", RevokeKey);
        return app;
    }

    [EndpointSummary("Create a tenant")]
    public static async Task<Results<Created<TenantResponse>, ValidationProblem>> CreateTenant(
        CreateTenantRequest request, OptimizerDbContext db, CancellationToken cancellationToken)
    {
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > Tenant.MaxNameLength)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["name"] = [$"name is required (1-{Tenant.MaxNameLength} characters)."] });
        }
        var tenant = new Tenant(name);
        db.Tenants.Add(tenant);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/v1/admin/tenants/{tenant.Id}", new TenantResponse(tenant.Id, tenant.Name));
    }

    [EndpointSummary("Issue an API key for a tenant")]
    [EndpointDescription("The key is returned once and stored only as a hash.")]
    public static async Task<Results<Created<ApiKeyResponse>, ProblemHttpResult>> CreateKey(
        string id, OptimizerDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.Tenants.AnyAsync(t => t.Id == id, cancellationToken))
        {
            return Problems.NotFound("tenant", id);
        }
        var (key, secret) = ApiKey.Issue(id);
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/v1/admin/keys/{key.Id}", new ApiKeyResponse(key.Id, secret, id));
    }

    [EndpointSummary("Revoke an API key")]
    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(
        string id, OptimizerDbContext db, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id, cancellationToken);
        if (key is null)
        {
            return Problems.NotFound("key", id);
        }
        key.Revoke();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
