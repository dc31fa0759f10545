using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

public sealed class ModelTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private sealed record FileDto(string Name, long SizeBytes, string Sha256);

    private sealed record ModelDto(string Id, string Name, string Status, string Architecture, long ParameterCount, string Dtype, long SizeBytes, List<FileDto> Files);

    [Fact]
    public async Task Upload_Returns201WithModel_WhenFilesValid()
    {
        var tenant = await fixture.CreateTenantAsync();
        var weights = TestFiles.ValidSafetensors();
        var response = await tenant.Http.UploadModelAsync("tiny-llama",
            ("config.json", TestFiles.LlamaConfig), ("model.safetensors", weights), ("tokenizer_config.json", "{}"u8.ToArray()));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var model = await response.ReadAsAsync<ModelDto>();
        Assert.Equal($"/v1/models/{model.Id}", response.Headers.Location?.ToString());
        Assert.StartsWith("mdl_", model.Id);
        Assert.Equal(("tiny-llama", "ready", "LlamaForCausalLM", 10L, "float32"), (model.Name, model.Status, model.Architecture, model.ParameterCount, model.Dtype));
        var file = model.Files.Single(f => f.Name == "model.safetensors");
        Assert.Equal(weights.Length, file.SizeBytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(weights)), file.Sha256);
        Assert.Equal(3, model.Files.Count);
        Assert.Equal(model.Files.Sum(f => f.SizeBytes), model.SizeBytes);
        Assert.Equal(3, (await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/models/{model.Id}/")).Count);
    }

    [Fact]
    public async Task Upload_Returns201_WhenShardedWithIndex()
    {
        var tenant = await fixture.CreateTenantAsync();
        var shard1 = TestFiles.Safetensors("""{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}""", 8);
        var shard2 = TestFiles.Safetensors("""{"b":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", 4);
        var index = """{"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}"""u8.ToArray();
        var response = await tenant.Http.UploadModelAsync("sharded", ("config.json", TestFiles.LlamaConfig),
            ("model-00001-of-00002.safetensors", shard1), ("model-00002-of-00002.safetensors", shard2), ("model.safetensors.index.json", index));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var model = await response.ReadAsAsync<ModelDto>();
        Assert.Equal((6L, "float16"), (model.ParameterCount, model.Dtype));
    }

    [Fact]
    public async Task Upload_Returns400AndStoresNothing_WhenIndexNamesMissingShard()
    {
        var tenant = await fixture.CreateTenantAsync();
        var index = """{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}"""u8.ToArray();
        var response = await tenant.Http.UploadModelAsync("sharded", ("config.json", TestFiles.LlamaConfig),
            ("model-00001-of-00002.safetensors", TestFiles.Safetensors("""{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}""", 8)),
            ("model.safetensors.index.json", index));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "model-00002-of-00002.safetensors");
        Assert.Empty(await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/"));
    }

    [Fact]
    public async Task DownloadFile_Returns206WithRange_WhenRangeRequested()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<ModelDto>();
        var weights = TestFiles.ValidSafetensors();

        var full = await tenant.Http.GetAsync($"/v1/models/{model.Id}/files/model.safetensors");
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(weights, await full.Content.ReadAsByteArrayAsync());
        Assert.Contains("bytes", full.Headers.AcceptRanges);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/models/{model.Id}/files/model.safetensors");
        request.Headers.Range = new RangeHeaderValue(8, 15);
        var partial = await tenant.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(weights[8..16], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 8-15/{weights.Length}", partial.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task DownloadFile_Returns416Problem_WhenRangeBeyondFile()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<ModelDto>();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/models/{model.Id}/files/model.safetensors");
        request.Headers.Range = new RangeHeaderValue(100_000, 100_010);
        var response = await tenant.Http.SendAsync(request);
        await response.AssertProblemAsync(HttpStatusCode.RequestedRangeNotSatisfiable);
        Assert.Equal($"bytes */{TestFiles.ValidSafetensors().Length}", response.Content.Headers.ContentRange?.ToString() ?? response.Headers.GetValues("Content-Range").Single());
    }

    [Fact]
    public async Task DownloadFile_Returns404_WhenFileNotInModel()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<ModelDto>();
        await (await tenant.Http.GetAsync($"/v1/models/{model.Id}/files/tokenizer.json")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task List_PagesWithCursor_WhenMoreThanLimit()
    {
        var tenant = await fixture.CreateTenantAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await (await tenant.Http.UploadModelAsync($"m{i}")).ReadAsAsync<ModelDto>()).Id);
        }
        var first = await tenant.Http.GetAsAsync<PageOf<ModelDto>>("/v1/models?limit=2");
        Assert.True(first.HasMore);
        Assert.Equal(ids[..2], first.Data.Select(m => m.Id));
        Assert.Equal(ids[1], first.LastId);
        var second = await tenant.Http.GetAsAsync<PageOf<ModelDto>>($"/v1/models?limit=2&after={first.LastId}");
        Assert.False(second.HasMore);
        Assert.Equal([ids[2]], second.Data.Select(m => m.Id));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    public async Task List_Returns400_WhenLimitOutOfRange(string limit)
    {
        var tenant = await fixture.CreateTenantAsync();
        var problem = await (await tenant.Http.GetAsync($"/v1/models?limit={limit}")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("limit", out _));
    }

    [Fact]
    public async Task Delete_RemovesRowAndBlobs_WhenModelUnused()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<ModelDto>();
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Http.DeleteAsync($"/v1/models/{model.Id}")).StatusCode);
        await (await tenant.Http.GetAsync($"/v1/models/{model.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty(await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/models/{model.Id}/"));
        Assert.False(await fixture.WithDbAsync(db => db.ModelFiles.AnyAsync(f => f.ModelId == model.Id)));
    }

    [Fact]
    public async Task Delete_Returns409_WhenQueuedJobUsesModel()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<ModelDto>();
        var job = await tenant.Http.PostAsync("/v1/jobs", System.Net.Http.Json.JsonContent.Create(new { type = "quantize", method = "rtn", model_id = model.Id }));
        Assert.True(HttpStatusCode.Accepted == job.StatusCode, await job.Content.ReadAsStringAsync() + string.Join('\n', fixture.Errors.Entries));
        await (await tenant.Http.DeleteAsync($"/v1/models/{model.Id}")).AssertProblemAsync(HttpStatusCode.Conflict, "active job");
        Assert.NotEmpty(await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/models/{model.Id}/"));
    }
}
