using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

public sealed class AuthTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task ListModels_Returns401Problem_WhenNoKey()
    {
        using var client = fixture.CreateClient();
        var response = await client.GetAsync("/v1/models");
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "Bearer");
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task ListModels_Returns401Problem_WhenKeyUnknown()
    {
        using var client = fixture.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "opt_notakey");
        var response = await client.GetAsync("/v1/models");
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "unknown or has been revoked");
    }

    [Fact]
    public async Task ListModels_Returns401_WhenKeyRevoked()
    {
        var tenant = await fixture.CreateTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetAsync("/v1/models")).StatusCode);
        using var admin = fixture.AdminClient();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/admin/keys/{tenant.KeyId}")).StatusCode);
        await (await tenant.Http.GetAsync("/v1/models")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task GetModel_Returns404_WhenModelBelongsToAnotherTenant()
    {
        var owner = await fixture.CreateTenantAsync("owner");
        var other = await fixture.CreateTenantAsync("other");
        var created = await (await owner.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();

        await (await other.Http.GetAsync($"/v1/models/{created.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Http.GetAsync($"/v1/models/{created.Id}/files/config.json")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Http.DeleteAsync($"/v1/models/{created.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        var list = await other.Http.GetAsAsync<PageOf<IdOnly>>("/v1/models");
        Assert.Empty(list!.Data);
        Assert.Equal(HttpStatusCode.OK, (await owner.Http.GetAsync($"/v1/models/{created.Id}")).StatusCode);
    }

    [Fact]
    public async Task CreateTenant_Returns403_WhenCallerIsATenant()
    {
        var tenant = await fixture.CreateTenantAsync();
        var response = await tenant.Http.PostAsJsonAsync("/v1/admin/tenants", new { name = "sneaky" });
        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await tenant.Http.PostAsync($"/v1/admin/tenants/{tenant.TenantId}/keys", null)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await tenant.Http.DeleteAsync($"/v1/admin/keys/{tenant.KeyId}")).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task CreateTenant_Returns401_WhenNoKey()
    {
        using var client = fixture.CreateClient();
        await (await client.PostAsJsonAsync("/v1/admin/tenants", new { name = "x" })).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task CreateKey_ReturnsKeyStoredOnlyAsHash_WhenAdmin()
    {
        var tenant = await fixture.CreateTenantAsync();
        Assert.StartsWith("opt_", tenant.Key);
        var stored = await fixture.WithDbAsync(db => db.ApiKeys.SingleAsync(k => k.Id == tenant.KeyId));
        Assert.NotEqual(tenant.Key, stored.Hash);
        Assert.Equal(Domain.Tenancy.ApiKey.HashSecret(tenant.Key), stored.Hash);
    }

    [Fact]
    public async Task CreateKey_Returns404_WhenTenantUnknown()
    {
        using var admin = fixture.AdminClient();
        await (await admin.PostAsync("/v1/admin/tenants/ten_missing/keys", null)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task HangfireDashboard_RequiresAdminKey_AndAcceptsKeyCookie()
    {
        using var anonymous = fixture.CreateClient(new() { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/hangfire")).StatusCode);

        var redirect = await anonymous.GetAsync($"/hangfire?key={ApiFixture.AdminKey}");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        var cookie = redirect.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        Assert.DoesNotContain(ApiFixture.AdminKey, cookie);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
        request.Headers.Add("Cookie", cookie);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(request)).StatusCode);

        var tenant = await fixture.CreateTenantAsync();
        // An authenticated non-admin caller is refused with 403 by the dashboard.
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.Http.GetAsync("/hangfire")).StatusCode);
        using var fresh = fixture.CreateClient(new() { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Unauthorized, (await fresh.GetAsync("/hangfire?key=wrong")).StatusCode);
    }
}
