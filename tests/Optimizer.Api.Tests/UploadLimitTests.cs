using System.Net;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

public sealed class UploadLimitTests(SmallUploadLimitFixture fixture) : IClassFixture<SmallUploadLimitFixture>
{
    [Fact]
    public async Task UploadModel_Returns413AndStoresNothing_WhenOverLimit()
    {
        var tenant = await fixture.CreateTenantAsync();
        // One valid tensor large enough to pass the limit only part-way through the data section.
        var elements = (int)(SmallUploadLimitFixture.Limit / 4) + 1024;
        var weights = TestFiles.Safetensors(
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + elements + "],\"data_offsets\":[0," + (elements * 4) + "]}}", elements * 4);
        var response = await tenant.Http.UploadModelAsync("big", ("config.json", TestFiles.LlamaConfig), ("model.safetensors", weights));

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "limit");
        Assert.False(await fixture.WithDbAsync(db => db.Models.AnyAsync(m => m.TenantId == tenant.TenantId)));
        Assert.Empty(await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/"));
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task UploadDataset_Returns413AndStoresNothing_WhenOverLimit()
    {
        var tenant = await fixture.CreateTenantAsync();
        var text = new byte[SmallUploadLimitFixture.Limit + 10];
        Array.Fill(text, (byte)'a');
        // Chunked: no Content-Length to refuse up front, so this exercises counting while streaming.
        var response = await tenant.Http.PostChunkedAsync("/v1/datasets", Infrastructure.Uploads.DatasetForm("big", "big.txt", text));

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.False(await fixture.WithDbAsync(db => db.Datasets.AnyAsync(d => d.TenantId == tenant.TenantId)));
        Assert.Empty(await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/"));
    }

    [Fact]
    public async Task UploadModel_Returns201_WhenUnderLimit()
    {
        var tenant = await fixture.CreateTenantAsync();
        Assert.Equal(HttpStatusCode.Created, (await tenant.Http.UploadModelAsync()).StatusCode);
    }
}
