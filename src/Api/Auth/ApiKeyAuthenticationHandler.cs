using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Optimizer.Api.Errors;
using Optimizer.Api.Extensions;
using Optimizer.Domain.Tenancy;

namespace Optimizer.Api.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c>: the configured admin key, or a tenant key looked up by its SHA-256.
/// Challenges and refusals are written as problem+json.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    OptimizerDbContext db,
    IOptions<OptimizerOptions> optimizer,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var secret = BearerSecret(Request);
        if (secret is null)
        {
            return AuthenticateResult.NoResult();
        }
        if (IsAdminKey(secret, optimizer.Value.AdminKey))
        {
            return Success(new Claim(ClaimTypes.Role, ApiPolicies.AdminRole), new Claim(ClaimTypes.Name, "admin"));
        }
        var hash = ApiKey.HashSecret(secret);
        var key = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Hash == hash && k.RevokedAt == null)
            .Select(k => new { k.Id, k.TenantId })
            .FirstOrDefaultAsync(Context.RequestAborted);
        return key is null
            ? AuthenticateResult.Fail("unknown or revoked key")
            : Success(new Claim(ApiPolicies.TenantClaim, key.TenantId), new Claim(ClaimTypes.Name, key.Id));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        var detail = BearerSecret(Request) is null
            ? "Send 'Authorization: Bearer <api key>'."
            : "The API key is unknown or has been revoked.";
        return WriteAsync(StatusCodes.Status401Unauthorized, "Unauthorized", detail);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteAsync(StatusCodes.Status403Forbidden, "Forbidden", "This key may not use this endpoint.");

    /// <summary>Constant-time comparison so that response timing does not reveal the admin key.</summary>
    public static bool IsAdminKey(string? candidate, string? adminKey) =>
        !string.IsNullOrEmpty(adminKey) && candidate is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), Encoding.UTF8.GetBytes(adminKey));

    public static string? BearerSecret(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        return header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && header.Length > prefix.Length
            ? header[prefix.Length..].Trim()
            : null;
    }

    private AuthenticateResult Success(params Claim[] claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(
            new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));

    private async Task WriteAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = detail, Type = ProblemTypes.For(status) },
        });
    }
}
