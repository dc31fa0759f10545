using System.Net;
using System.Text;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

public sealed class UploadIdempotencyTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task UploadModel_Returns200WithSameModelAndStoresNothingMore_WhenKeyAndUploadRepeat()
    {
        var tenant = await fixture.CreateTenantAsync();

        var first = await SendAsync(tenant, "/v1/models", "model-key", Infrastructure.Uploads.ModelForm());
        var blobsAfterFirst = await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/");
        var second = await SendAsync(tenant, "/v1/models", "model-key", Infrastructure.Uploads.ModelForm());

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal((await first.ReadAsAsync<IdOnly>()).Id, (await second.ReadAsAsync<IdOnly>()).Id);
        Assert.Equal(1, await fixture.WithDbAsync(db => db.Models.CountAsync(m => m.TenantId == tenant.TenantId)));
        Assert.Equal(blobsAfterFirst, await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/"));
    }

    [Fact]
    public async Task UploadModel_Returns409_WhenKeyReusedWithDifferentUpload()
    {
        var tenant = await fixture.CreateTenantAsync();
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(tenant, "/v1/models", "model-key-2", Infrastructure.Uploads.ModelForm("first"))).StatusCode);

        var response = await SendAsync(tenant, "/v1/models", "model-key-2", Infrastructure.Uploads.ModelForm("second"));

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "different upload");
        Assert.Equal(1, await fixture.WithDbAsync(db => db.Models.CountAsync(m => m.TenantId == tenant.TenantId)));
    }

    [Fact]
    public async Task UploadModel_StoresOneModel_WhenDuplicatesArriveConcurrently()
    {
        var tenant = await fixture.CreateTenantAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SendAsync(tenant, "/v1/models", "race", Infrastructure.Uploads.ModelForm())));

        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.True(statuses.Count(s => s == HttpStatusCode.Created) == 1, string.Join(",", statuses));
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) == 3, string.Join(",", statuses));
        var ids = await Task.WhenAll(responses.Select(r => r.ReadAsAsync<IdOnly>()));
        Assert.Single(ids.Select(m => m.Id).Distinct());
        var blobs = await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/models/");
        Assert.All(blobs, b => Assert.StartsWith($"tenants/{tenant.TenantId}/models/{ids[0].Id}/", b));
    }

    [Fact]
    public async Task UploadDataset_ReplaysSameDataset_WhenKeyAndFileRepeat_And409_WhenFileDiffers()
    {
        var tenant = await fixture.CreateTenantAsync();
        var text = Encoding.UTF8.GetBytes("call me ishmael\n");

        var first = await SendAsync(tenant, "/v1/datasets", "ds-key", Infrastructure.Uploads.DatasetForm("notes", "notes.txt", text));
        var again = await SendAsync(tenant, "/v1/datasets", "ds-key", Infrastructure.Uploads.DatasetForm("notes", "notes.txt", text));
        var changed = await SendAsync(tenant, "/v1/datasets", "ds-key", Infrastructure.Uploads.DatasetForm("notes", "notes.txt", Encoding.UTF8.GetBytes("other\n")));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal((await first.ReadAsAsync<IdOnly>()).Id, (await again.ReadAsAsync<IdOnly>()).Id);
        await changed.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(1, await fixture.WithDbAsync(db => db.Datasets.CountAsync(d => d.TenantId == tenant.TenantId)));
    }

    [Fact]
    public async Task UploadDataset_Returns400AndStoresNothing_WhenKeyIsNotAscii()
    {
        var tenant = await fixture.CreateTenantAsync();

        var response = await SendAsync(tenant, "/v1/datasets", "clé", Infrastructure.Uploads.DatasetForm("notes", "notes.txt", "x\n"u8.ToArray()));

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "Idempotency-Key");
        Assert.Empty(await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/"));
    }

    private static Task<HttpResponseMessage> SendAsync(TenantClient tenant, string url, string key, MultipartFormDataContent form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = form };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return tenant.Http.SendAsync(request);
    }
}
