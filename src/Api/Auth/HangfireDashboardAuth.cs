using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;
using Microsoft.Extensions.Options;
using Optimizer.Api.Extensions;

namespace Optimizer.Api.Auth;

/// <summary>
/// The dashboard is for the admin key only. A browser opens <c>/hangfire?key=&lt;admin key&gt;</c> once:
/// that sets an HttpOnly, SameSite=Strict cookie holding a hash of the key and redirects to the clean URL.
/// Scripts may send <c>Authorization: Bearer &lt;admin key&gt;</c> instead.
/// </summary>
public sealed class HangfireDashboardAuth : IDashboardAuthorizationFilter
{
    public const string CookieName = "optimizer_admin";

    public bool Authorize(DashboardContext context)
    {
        var http = context.GetHttpContext();
        var adminKey = http.RequestServices.GetRequiredService<IOptions<OptimizerOptions>>().Value.AdminKey;
        if (string.IsNullOrEmpty(adminKey))
        {
            return false;
        }
        if (ApiKeyAuthenticationHandler.IsAdminKey(ApiKeyAuthenticationHandler.BearerSecret(http.Request), adminKey))
        {
            return true;
        }
        var cookie = http.Request.Cookies[CookieName];
        return cookie is not null && CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(cookie), Encoding.ASCII.GetBytes(CookieValue(adminKey)));
    }

    /// <summary>Turns <c>?key=</c> into the cookie and redirects, so the key does not stay in the address bar.</summary>
    public static async Task ExchangeKeyForCookie(HttpContext http, Func<Task> next)
    {
        var adminKey = http.RequestServices.GetRequiredService<IOptions<OptimizerOptions>>().Value.AdminKey;
        var key = http.Request.Query["key"].ToString();
        if (key.Length > 0 && ApiKeyAuthenticationHandler.IsAdminKey(key, adminKey))
        {
            http.Response.Cookies.Append(CookieName, CookieValue(adminKey!), new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = http.Request.IsHttps,
                Path = "/hangfire",
            });
            http.Response.Redirect(http.Request.PathBase + http.Request.Path);
            return;
        }
        await next();
    }

    private static string CookieValue(string adminKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("hangfire-dashboard:" + adminKey)));
}
