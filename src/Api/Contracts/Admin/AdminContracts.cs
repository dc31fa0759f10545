namespace Optimizer.Api.Contracts.Admin;

/// <summary>Body of <c>POST /v1/admin/tenants</c>.</summary>
public sealed record CreateTenantRequest(string? Name);

/// <summary>A tenant.</summary>
public sealed record TenantResponse(string Id, string Name);

/// <summary>A freshly issued API key; <c>key</c> is shown only in this response.</summary>
public sealed record ApiKeyResponse(string Id, string Key, string TenantId);
