using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// An <c>evaluate</c> job on a 2-bit RTN copy of the fixture LM with a user rubric dataset (per-prompt checks and a
/// free-form question), a <c>jsonl_choices</c> dataset and the fixture itself as judge; then the report as JSON and HTML.
/// Asserts the mechanisms (the answers follow the responses and the judge's probabilities), not that a 7 M model is wise.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class EvaluationEndToEndTests(ServiceFixture service)
{
    private const string Rubric = """
        {"prompt": "Call me Ishmael. Some years ago", "rubric": [{"question": "Does the response contain the word 'the'?", "check": {"contains": "the"}}, {"question": "Does it avoid the string 'qqqq'?", "check": {"not_contains": "qqqq"}}, {"question": "Does it contain a word?", "check": {"regex": "[A-Za-z]+"}}, {"question": "Does it state a number near 1851?", "check": {"number_within": {"value": 1851, "tolerance": 10}}}, {"question": "Is the response about the sea?"}]}
        {"prompt": "The whale", "rubric": [{"question": "Is the response exactly 'swims'?", "check": {"equals": "swims"}}, {"question": "Is the response written in English?"}]}
        """;

    private const string Choices = """
        {"prompt": "Call me", "choices": ["Ishmael.", "spreadsheet."], "answer": 0}
        {"prompt": "The captain of the Pequod was", "choices": ["Ahab", "Napoleon"], "answer": 0}
        {"prompt": "The sea was", "choices": ["calm", "keyboard"], "answer": 0}
        """;

    [Fact]
    public async Task EvaluateJob_AnswersUserRubricWithChecksAndJudge_AndServesHtmlReport()
    {
        using var client = service.CreateClient();
        var model = await FixtureModel.UploadAsync(service, client, "fixture-eval");
        var modelId = model["id"]!.GetValue<string>();
        var rubricSet = await UploadDatasetAsync(client, "rubric.jsonl", Rubric, "jsonl_prompts");
        var choiceSet = await UploadDatasetAsync(client, "choices.jsonl", Choices, "jsonl_choices");
        var quantized = await RunAsync(client, new { type = "quantize", method = "rtn", model_id = modelId, @params = new { bits = 2, group_size = 128 } });

        var evaluated = await RunAsync(client, new
        {
            type = "evaluate",
            method = "standard",
            model_id = quantized["output_model_id"]!.GetValue<string>(),
            @params = new
            {
                dataset_id = "ds_builtin_moby_dick_heldout",
                seq_len = 128,
                max_tokens = 2048,
                task_dataset_ids = new[] { rubricSet, choiceSet },
                judge_model_id = modelId,
                max_new_tokens = 12,
                // The fixture is weak enough that 2-bit RTN costs it only a few percent; a 0.1 % tolerance makes sure it fails.
                rubric = new { max_perplexity_increase = 0.001 },
            },
        });
        var report = await service.ReadJsonAsync(await client.GetAsync($"/v1/reports/{evaluated["report_id"]}"), HttpStatusCode.OK);
        var items = report["items"]!.AsArray().Select(i => i!.AsObject()).ToList();
        var metrics = report["metrics"]!.AsObject();

        AssertUserRubric(items, rubricSet);
        var choices = items.Single(i => Id(i) == "task.choices_accuracy");
        Assert.InRange(choices["evidence"]!["accuracy"]!.GetValue<double>(), 0, 1);
        Assert.Equal(3, choices["evidence"]!["questions"]!.GetValue<int>());
        Assert.Equal(modelId, metrics["judge_model_id"]!.GetValue<string>());

        // 2-bit RTN against a 0.1 % tolerance: the perplexity item fails and drills down to blocks, then module types.
        var perplexity = items.Single(i => Id(i) == "quality.perplexity_within_tolerance");
        Assert.False(perplexity["answer"]!.GetValue<bool>(), report.ToJsonString());
        var blocks = perplexity["children"]!.AsArray().Select(b => b!.AsObject()).ToList();
        Assert.Equal(metrics["block_output_errors"]!.AsArray().Count, blocks.Count);
        foreach (var block in blocks)
        {
            var failed = !block["answer"]!.GetValue<bool>();
            Assert.Equal(failed ? 7 : 0, block["children"]!.AsArray().Count);
        }
        Assert.Contains(blocks, b => !b["answer"]!.GetValue<bool>());
        Assert.Equal(4 * 7, metrics["esd_alpha"]!.AsObject().Count);
        Assert.Equal("fail", report["verdict"]!.GetValue<string>());

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/reports/{evaluated["report_id"]}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        var html = await (await client.SendAsync(request)).Content.ReadAsStringAsync();
        Assert.Contains("id=\"layer-error-chart\"", html);
        Assert.Contains("data-id=\"diagnostics.block_output_error.0\"", html);
        Assert.DoesNotContain("<script", html);
    }

    /// <summary>Every check answer agrees with the response it was asked about; judge answers agree with P(yes) &gt; P(no).</summary>
    private static void AssertUserRubric(List<JsonObject> items, string rubricSet)
    {
        var task = items.Where(i => Id(i).StartsWith($"task.prompt.{rubricSet}.", StringComparison.Ordinal)).ToList();
        Assert.Equal(7, task.Count);
        foreach (var item in task)
        {
            var evidence = item["evidence"]!.AsObject();
            var response = evidence["response"]!.GetValue<string>();
            var answer = item["answer"]!.GetValue<bool>();
            Assert.False(string.IsNullOrEmpty(evidence["baseline_response"]?.GetValue<string>()), Id(item));
            if (evidence["answered_by"]!.GetValue<string>() == "judge")
            {
                Assert.Equal(evidence["judge_p_yes"]!.GetValue<double>() > evidence["judge_p_no"]!.GetValue<double>(), answer);
                continue;
            }
            var expected = Id(item).Split('.')[^1] switch
            {
                "0" when Id(item).Contains(".1.", StringComparison.Ordinal) => response.Contains("the", StringComparison.OrdinalIgnoreCase),
                "1" when Id(item).Contains(".1.", StringComparison.Ordinal) => !response.Contains("qqqq", StringComparison.OrdinalIgnoreCase),
                "2" => Regex.IsMatch(response, "[A-Za-z]+", RegexOptions.IgnoreCase),
                "3" => Regex.Match(response, @"[-+]?(?:\d+(?:\.\d*)?|\.\d+)") is { Success: true } m && Math.Abs(double.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture) - 1851) <= 10,
                _ => string.Equals(response.Trim(), "swims", StringComparison.OrdinalIgnoreCase),
            };
            Assert.True(expected == answer, $"{Id(item)}: answered {answer} for response '{response}'");
        }
        Assert.Equal(2, task.Count(i => i["evidence"]!["answered_by"]!.GetValue<string>() == "judge"));
    }

    private static string Id(JsonObject item) => item["id"]!.GetValue<string>();

    private async Task<string> UploadDatasetAsync(HttpClient client, string fileName, string jsonl, string format)
    {
        using var form = new MultipartFormDataContent { { new StringContent(fileName), "name" } };
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(jsonl));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        var dataset = await service.ReadJsonAsync(await client.PostAsync("/v1/datasets", form), HttpStatusCode.Created);
        Assert.Equal(format, dataset["format"]!.GetValue<string>());
        return dataset["id"]!.GetValue<string>();
    }

    private async Task<JsonObject> RunAsync(HttpClient client, object body)
    {
        var job = await service.ReadJsonAsync(await client.PostAsJsonAsync("/v1/jobs", body), HttpStatusCode.Accepted);
        var done = await JobPolling.WaitForTerminalAsync(service, client, job["id"]!.GetValue<string>(), TimeSpan.FromMinutes(10));
        Assert.True(done["status"]!.GetValue<string>() == "succeeded", done.ToJsonString() + service.Logs);
        return done;
    }
}
