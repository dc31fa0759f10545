using System.Security.Claims;

namespace Optimizer.Api.Auth;

/// <summary>Authorization policies: tenant keys for <c>/v1</c> resources, the admin key for <c>/v1/admin</c>.</summary>
public static class ApiPolicies
{
    public const string Tenant = "tenant";
    public const string Admin = "admin";
    public const string AdminRole = "admin";
    public const string TenantClaim = "optimizer:tenant";

    /// <summary>The caller's tenant (endpoints behind <see cref="Tenant"/> always have one).</summary>
    public static string TenantId(this ClaimsPrincipal user) =>
        user.FindFirstValue(TenantClaim) ?? throw new InvalidOperationException("No tenant on this principal.");
}
