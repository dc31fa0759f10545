using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// The scripts in <c>examples/</c>, run as a user runs them against <c>scripts/up --detach</c>: the walkthrough, the
/// webhook receiver (a real delivery, signed by the service) and the CI gate (a passing and a failing report).
/// </summary>
[Collection(Name)]
public sealed class ExamplesEndToEndTests(ScriptsUpInstance service) : IClassFixture<ScriptsUpInstance>
{
    public const string Name = "examples";

    /// <summary>Evaluation on the first 4,096 held-out tokens keeps each gate job to seconds.</summary>
    private const string MaxTokens = "4096";

    /// <summary>
    /// Safety nets, not timing checks: seconds on a quiet machine, but one RTN job with a full evaluation took 7 minutes
    /// on the 2-core machine at load average 40.
    /// </summary>
    private static readonly TimeSpan s_scriptTimeout = TimeSpan.FromMinutes(15);

    [Fact]
    public async Task Walkthrough_UploadsQuantizesWaits_AndDownloadsTheArtifact()
    {
        var output = Directory.CreateTempSubdirectory("optimizer-walkthrough-").FullName;
        var environment = new Dictionary<string, string>(service.ExampleEnvironment) { ["WALKTHROUGH_OUT"] = output };

        var (exitCode, run) = await ExampleProcess.RunAsync("examples/walkthrough.sh", environment, s_scriptTimeout);

        Assert.True(exitCode == 0, $"walkthrough.sh exited with {exitCode}\n{run.Output}{service.Logs}");
        Assert.Contains("verdict pass", run.Stdout);
        Assert.True(new FileInfo(Path.Combine(output, "model.safetensors")).Length > 1_000_000, run.Output);
        Assert.Equal("pass", JsonNode.Parse(File.ReadAllText(Path.Combine(output, "report.json")))!["verdict"]!.GetValue<string>());
        TestContext.Current.TestOutputHelper?.WriteLine($"scripts/up --detach took {service.UpDuration.TotalSeconds:F0} s");
        Directory.Delete(output, recursive: true);
    }

    [Fact]
    public async Task WebhookReceiver_VerifiesARealDelivery_DedupesItsRedelivery_AndRefusesAForgery()
    {
        using var client = service.CreateClient();
        var port = Ports.Free();
        var hook = await ReadAsync(await client.PostAsJsonAsync("/v1/webhooks",
            new { url = $"http://127.0.0.1:{port}/hook", events = new[] { "job.succeeded" }, description = "examples test" }), HttpStatusCode.Created);
        await using var receiver = ExampleProcess.Start("examples/webhook-receiver/receiver.mjs", new Dictionary<string, string>
        {
            ["WEBHOOK_SECRET"] = hook["secret"]!.GetValue<string>(),
            ["PORT"] = port.ToString(),
        });
        await WaitListeningAsync(receiver);

        var jobId = await SubmitRtnAsync(client, await UploadFixtureAsync(client), bits: 8);
        var line = await receiver.WaitForLineAsync(l => l.Contains(jobId), s_scriptTimeout, () => service.Logs);
        var delivered = JsonNode.Parse(line)!;
        Assert.True(delivered["verified"]!.GetValue<bool>());
        Assert.False(delivered["duplicate"]!.GetValue<bool>());
        Assert.Equal("job.succeeded", delivered["type"]!.GetValue<string>());

        // The service redelivers with the same webhook-id: verified again, and recognised as already processed.
        var deliveries = await ReadAsync(await client.GetAsync($"/v1/webhooks/{hook["id"]}/deliveries"), HttpStatusCode.OK);
        var delivery = deliveries["data"]!.AsArray().Single()!;
        await ReadAsync(await client.PostAsync($"/v1/webhooks/{hook["id"]}/deliveries/{delivery["id"]}/redeliver", null), HttpStatusCode.Accepted);
        await receiver.WaitForLineAsync(l => l.Contains(jobId) && l.Contains("\"duplicate\":true"), TimeSpan.FromMinutes(1), () => service.Logs);

        // The same body under a signature made with another key is refused.
        using var forged = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/hook") { Content = new StringContent("{\"type\":\"job.succeeded\"}") };
        forged.Headers.Add("webhook-id", "msg_forged");
        forged.Headers.Add("webhook-timestamp", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString());
        forged.Headers.Add("webhook-signature", "v1,bm90IGEgcmVhbCBzaWduYXR1cmUgYXQgYWxsIQ==");
        using var plain = new HttpClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await plain.SendAsync(forged)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/v1/webhooks/{hook["id"]}")).StatusCode);
    }

    [Fact]
    public async Task CiGate_PassesForAGoodJob_AndFailsForAReportThatFailsAStrictRubric()
    {
        var output = Directory.CreateTempSubdirectory("optimizer-gate-").FullName;
        var good = Gate(output, ("GATE_MODEL_DIR", Path.Combine(service.FixtureDir, "model")), ("GATE_PARAMS", """{"bits":8,"group_size":128}"""));

        var (passCode, pass) = await ExampleProcess.RunAsync("examples/ci/quantize-gate.sh", good, s_scriptTimeout);

        Assert.True(passCode == 0, $"the gate failed a good job ({passCode})\n{pass.Output}{service.Logs}");
        Assert.Contains("verdict pass", pass.Stdout);
        Assert.True(File.Exists(Path.Combine(output, "report.html")), pass.Output);
        var modelId = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "job.json")))!["model_id"]!.GetValue<string>();

        // 2-bit RTN against a 0.1 % perplexity budget: the report fails, so the gate must.
        var strict = Gate(output, ("GATE_MODEL_ID", modelId), ("GATE_PARAMS", """{"bits":2,"group_size":128}"""),
            ("GATE_RUBRIC", """{"max_perplexity_increase":0.001}"""));
        var (failCode, fail) = await ExampleProcess.RunAsync("examples/ci/quantize-gate.sh", strict, s_scriptTimeout);

        Assert.True(failCode == 1, $"the gate let a failing report through ({failCode})\n{fail.Output}{service.Logs}");
        Assert.Contains("verdict fail", fail.Stdout);
        Assert.Contains("  no: ", fail.Stdout);
        Assert.Equal("fail", JsonNode.Parse(File.ReadAllText(Path.Combine(output, "report.json")))!["verdict"]!.GetValue<string>());
        Directory.Delete(output, recursive: true);
    }

    private Dictionary<string, string> Gate(string output, params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>(service.ExampleEnvironment) { ["GATE_OUT"] = output, ["GATE_MAX_TOKENS"] = MaxTokens };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }
        return environment;
    }

    private async Task<string> UploadFixtureAsync(HttpClient client)
    {
        using var form = new MultipartFormDataContent { { new StringContent("webhook-fixture"), "name" } };
        foreach (var file in Directory.GetFiles(Path.Combine(service.FixtureDir, "model")))
        {
            form.Add(new StreamContent(File.OpenRead(file)), Path.GetFileName(file), Path.GetFileName(file));
        }
        return (await ReadAsync(await client.PostAsync("/v1/models", form), HttpStatusCode.Created))["id"]!.GetValue<string>();
    }

    private async Task<string> SubmitRtnAsync(HttpClient client, string modelId, int bits)
    {
        var job = await ReadAsync(await client.PostAsJsonAsync("/v1/jobs",
            new { type = "quantize", method = "rtn", model_id = modelId, @params = new { bits, group_size = 128 } }), HttpStatusCode.Accepted);
        return job["id"]!.GetValue<string>();
    }

    private async Task<JsonObject> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {body}{service.Logs}");
        return JsonNode.Parse(body)!.AsObject();
    }

    private static async Task WaitListeningAsync(ExampleProcess receiver)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!receiver.Stderr.Contains("listening on"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the receiver did not start\n" + receiver.Output);
            await Task.Delay(100);
        }
    }
}
