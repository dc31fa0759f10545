using System.Net;
using System.Text;
using Optimizer.Api.Tests.Infrastructure;

namespace Optimizer.Api.Tests;

/// <summary>
/// API.md "Bad input": each upload gets a 4xx problem that says what is wrong, leaves no row and no blob,
/// and the service stays healthy.
/// </summary>
public sealed class ModelBadInputTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private const string OneTensor = "\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]}";

    [Fact]
    public Task Upload_Returns400_WhenHeaderTruncated() =>
        AssertRefusedAsync(Weights([1, 0, 0]), "shorter than the 8-byte");

    [Fact]
    public Task Upload_Returns400_WhenHeaderLengthOversized() =>
        AssertRefusedAsync(Weights(TestFiles.WithPrefix(200_000_000, new byte[16])), "outside 1..");

    [Fact]
    public Task Upload_Returns400_WhenHeaderLengthBeyondFile() =>
        AssertRefusedAsync(Weights(TestFiles.WithPrefix(1000, "{\"a\":1}"u8.ToArray())), "beyond the end of the file");

    [Fact]
    public Task Upload_Returns400_WhenOffsetsOverlap() =>
        AssertRefusedAsync(Weights(TestFiles.Safetensors(
            """{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[6],"data_offsets":[20,44]}}""", 44)), "overlaps");

    [Fact]
    public Task Upload_Returns400_WhenOffsetsLeaveGap() =>
        AssertRefusedAsync(Weights(TestFiles.Safetensors(
            """{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[6],"data_offsets":[28,52]}}""", 52)), "gap");

    [Fact]
    public Task Upload_Returns400_WhenOffsetsBeyondData() =>
        AssertRefusedAsync(Weights(TestFiles.Safetensors("{" + OneTensor + "}", 10)), "need 24 data bytes but the file has 10");

    [Fact]
    public Task Upload_Returns400_WhenDataLongerThanHeaderSays() =>
        AssertRefusedAsync(Weights(TestFiles.Safetensors("{" + OneTensor + "}", 30)), "more data than its header");

    [Fact]
    public Task Upload_Returns400_WhenDtypeUnknown() =>
        AssertRefusedAsync(Weights(TestFiles.Safetensors("""{"a":{"dtype":"F17","shape":[6],"data_offsets":[0,24]}}""", 24)), "unknown or missing dtype");

    [Fact]
    public Task Upload_Returns400_WhenShapeDoesNotMatchBytes() =>
        AssertRefusedAsync(Weights(TestFiles.Safetensors("""{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}""", 20)), "needs 24 bytes");

    [Fact]
    public Task Upload_Returns400_WhenHeaderNotUtf8()
    {
        var header = Encoding.UTF8.GetBytes("{" + OneTensor.Replace("\"a\"", "\"a\u00e9\"") + "}");
        // Make the two bytes of 'é' an invalid sequence (0xC3 followed by a non-continuation byte).
        var index = Array.IndexOf(header, (byte)0xC3);
        header[index + 1] = 0x28;
        return AssertRefusedAsync(Weights(TestFiles.Safetensors(header, 24)), "not valid UTF-8");
    }

    [Fact]
    public Task Upload_Returns400_WhenHeaderHasDuplicateKeys() =>
        AssertRefusedAsync(Weights(TestFiles.Safetensors("{" + OneTensor + "," + OneTensor + "}", 24)), "duplicate key 'a'");

    [Fact]
    public Task Upload_Returns400_WhenConfigNotJson() =>
        AssertRefusedAsync([("config.json", "{not json"u8.ToArray()), ("model.safetensors", TestFiles.ValidSafetensors())], "config.json is not valid JSON");

    [Fact]
    public Task Upload_Returns400_WhenArchitectureUnsupported() =>
        AssertRefusedAsync([("config.json", """{"architectures":["FalconForCausalLM"]}"""u8.ToArray()), ("model.safetensors", TestFiles.ValidSafetensors())],
            "unsupported architecture 'FalconForCausalLM'");

    [Fact]
    public Task Upload_Returns400_WhenFileNameHasSlash() =>
        AssertRefusedAsync([("config.json", TestFiles.LlamaConfig), ("weights/model.safetensors", TestFiles.ValidSafetensors())], "path separator");

    [Fact]
    public Task Upload_Returns400_WhenFileNameHasBackslash() =>
        AssertRefusedAsync([("config.json", TestFiles.LlamaConfig), ("weights\\\\model.safetensors", TestFiles.ValidSafetensors())], "path separator");

    [Fact]
    public Task Upload_Returns400_WhenFileNameHasDotDot() =>
        AssertRefusedAsync([("config.json", TestFiles.LlamaConfig), ("..model.safetensors", TestFiles.ValidSafetensors())], "'..'");

    [Fact]
    public Task Upload_Returns400_WhenFileNameNotInLayout() =>
        AssertRefusedAsync([("config.json", TestFiles.LlamaConfig), ("model.safetensors", TestFiles.ValidSafetensors()), ("run.sh", "rm -rf /"u8.ToArray())],
            "not part of the Hugging Face layout");

    [Fact]
    public Task Upload_Returns400_WhenConfigMissing() =>
        AssertRefusedAsync([("model.safetensors", TestFiles.ValidSafetensors())], "config.json is required");

    [Fact]
    public Task Upload_Returns400_WhenNoSafetensors() =>
        AssertRefusedAsync([("config.json", TestFiles.LlamaConfig)], "safetensors file is required");

    [Fact]
    public async Task Upload_Returns415_WhenNotMultipart()
    {
        var tenant = await fixture.CreateTenantAsync();
        var response = await tenant.Http.PostAsync("/v1/models", new StringContent("{}", Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "multipart/form-data");
    }

    private static (string, byte[])[] Weights(byte[] safetensors) =>
        [("config.json", TestFiles.LlamaConfig), ("model.safetensors", safetensors)];

    /// <summary>The common assertions of every bad upload: problem, no row, no blob, still healthy.</summary>
    private async Task AssertRefusedAsync((string, byte[])[] files, string detail)
    {
        var tenant = await fixture.CreateTenantAsync();
        var response = await tenant.Http.UploadModelAsync("bad", files);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, detail);
        Assert.False(await fixture.WithDbAsync(db => db.Models.AnyAsync(m => m.TenantId == tenant.TenantId)));
        Assert.Empty(await fixture.BlobsUnderAsync($"tenants/{tenant.TenantId}/"));
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetAsync("/healthz")).StatusCode);
    }
}
