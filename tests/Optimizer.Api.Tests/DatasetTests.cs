using System.Net;
using System.Text;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

public sealed class DatasetTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private sealed record DatasetDto(string Id, string Name, string Format, long Records, long SizeBytes, string Sha256, bool Builtin);

    public static TheoryData<string, byte[], string, long> ValidFiles => new()
    {
        { "corpus.txt", "Call me Ishmael.\nSome years ago\n\nnever mind how long.\n"u8.ToArray(), "text", 3 },
        { "lines.jsonl", TestFiles.Jsonl(new { text = "a" }, new { text = "b" }), "jsonl_text", 2 },
        { "pairs.jsonl", TestFiles.Jsonl(new { prompt = "2+2=", completion = "4" }), "jsonl_pairs", 1 },
        { "choices.jsonl", TestFiles.Jsonl(new { prompt = "Sky?", choices = new[] { "blue", "green" }, answer = 0 }, new { prompt = "Grass?", choices = new[] { "blue", "green" }, answer = 1 }), "jsonl_choices", 2 },
        { "rubric.jsonl", TestFiles.Jsonl(new { prompt = "Call me", rubric = new object[] { new { question = "Names Ishmael?", check = new { contains = "Ishmael" } } } }), "jsonl_prompts", 1 },
    };

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public async Task Upload_Returns201WithDetectedFormat_WhenFileValid(string fileName, byte[] content, string format, long records)
    {
        var tenant = await fixture.CreateTenantAsync();
        var response = await tenant.Http.UploadDatasetAsync("data", fileName, content);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var dataset = await response.ReadAsAsync<DatasetDto>();
        Assert.Equal((format, records, (long)content.Length, false), (dataset.Format, dataset.Records, dataset.SizeBytes, dataset.Builtin));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content)), dataset.Sha256);
        Assert.Single(await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/datasets/{dataset.Id}/"));
        Assert.Equal(dataset.Id, (await tenant.Http.GetAsAsync<DatasetDto>($"/v1/datasets/{dataset.Id}")).Id);
    }

    [Fact]
    public Task Upload_Returns400NamingLine_WhenLineNotJson() =>
        AssertRefusedAsync("bad.jsonl", Encoding.UTF8.GetBytes("{\"text\":\"ok\"}\n{\"text\": oops}\n"), "line 2 is not valid JSON");

    [Fact]
    public Task Upload_Returns400NamingLine_WhenFormsMixed() =>
        AssertRefusedAsync("mixed.jsonl", TestFiles.Jsonl(new { text = "a" }, new { prompt = "p", completion = "c" }), "line 2 has the form jsonl_pairs");

    [Fact]
    public Task Upload_Returns400_WhenLineHasUnknownShape() =>
        AssertRefusedAsync("odd.jsonl", TestFiles.Jsonl(new { question = "?" }), "line 1 is not one of");

    [Fact]
    public Task Upload_Returns400_WhenChoiceAnswerOutOfRange() =>
        AssertRefusedAsync("choices.jsonl", TestFiles.Jsonl(new { prompt = "p", choices = new[] { "a" }, answer = 3 }), "line 1");

    [Fact]
    public Task Upload_Returns400_WhenNotUtf8() =>
        AssertRefusedAsync("latin1.txt", [0x43, 0x61, 0x66, 0xE9, 0x0A], "not valid UTF-8");

    [Fact]
    public Task Upload_Returns400_WhenExtensionUnknown() =>
        AssertRefusedAsync("data.csv", "a,b\n"u8.ToArray(), ".txt or .jsonl");

    [Fact]
    public Task Upload_Returns400_WhenEmpty() =>
        AssertRefusedAsync("empty.txt", "\n\n"u8.ToArray(), "no records");

    [Fact]
    public async Task GetAndList_ShowBuiltin_AndDeleteRefusesIt()
    {
        const string builtinId = "ds_builtin_test_corpus";
        await fixture.WithDbAsync(async db =>
        {
            if (!await db.Datasets.AnyAsync(d => d.Id == builtinId))
            {
                db.Datasets.Add(new Domain.Datasets.Dataset(null, "built-in", Domain.Datasets.DatasetFormat.Text, "corpus.txt", builtinId) { Records = 1 });
                await db.SaveChangesAsync();
            }
            return true;
        });
        var tenant = await fixture.CreateTenantAsync();
        Assert.True((await tenant.Http.GetAsAsync<DatasetDto>($"/v1/datasets/{builtinId}")).Builtin);
        Assert.Contains((await tenant.Http.GetAsAsync<PageOf<DatasetDto>>("/v1/datasets")).Data, d => d.Id == builtinId);
        await (await tenant.Http.DeleteAsync($"/v1/datasets/{builtinId}")).AssertProblemAsync(HttpStatusCode.Conflict, "built in");
    }

    [Fact]
    public async Task Delete_RemovesRowAndBlob_WhenOwnDataset()
    {
        var tenant = await fixture.CreateTenantAsync();
        var dataset = await (await tenant.Http.UploadDatasetAsync("d", "a.txt", "hello\n"u8.ToArray())).ReadAsAsync<DatasetDto>();
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Http.DeleteAsync($"/v1/datasets/{dataset.Id}")).StatusCode);
        Assert.Empty(await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/"));
        await (await tenant.Http.GetAsync($"/v1/datasets/{dataset.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_Returns404_WhenDatasetBelongsToAnotherTenant()
    {
        var owner = await fixture.CreateTenantAsync();
        var other = await fixture.CreateTenantAsync();
        var dataset = await (await owner.Http.UploadDatasetAsync("d", "a.txt", "hello\n"u8.ToArray())).ReadAsAsync<DatasetDto>();
        await (await other.Http.GetAsync($"/v1/datasets/{dataset.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Http.DeleteAsync($"/v1/datasets/{dataset.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    private async Task AssertRefusedAsync(string fileName, byte[] content, string detail)
    {
        var tenant = await fixture.CreateTenantAsync();
        var response = await tenant.Http.UploadDatasetAsync("bad", fileName, content);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, detail);
        Assert.False(await fixture.WithDbAsync(db => db.Datasets.AnyAsync(d => d.TenantId == tenant.TenantId)));
        Assert.Empty(await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/"));
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetAsync("/healthz")).StatusCode);
    }
}
