using System.Text.Json;
using Optimizer.Domain.Methods.Evaluate.Standard;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Evaluation.Tasks;

namespace Optimizer.Worker.Tests.Evaluation;

/// <summary>The drill-down under a failed perplexity item, and the task items (user rubric, choices) in the engine.</summary>
public sealed class RubricTaskAndDrillDownTests
{
    private static readonly IReadOnlyDictionary<string, double> CleanModules = new Dictionary<string, double>
    {
        ["q_proj"] = 0.01, ["k_proj"] = 0.01, ["v_proj"] = 0.01, ["o_proj"] = 0.01, ["gate_proj"] = 0.01, ["up_proj"] = 0.01, ["down_proj"] = 0.01,
    };

    private static EvaluationMetrics Metrics(double perplexity, TaskResults? tasks = null) => new()
    {
        AllTensorsFinite = true,
        LoadsAndRuns = true,
        CandidatePerplexity = perplexity,
        BaselinePerplexity = 10.0,
        MeanKl = 0.01,
        Top1Agreement = 0.95,
        BlockOutputErrors = [0.01, 0.2, 0.02],
        ModuleOutputErrors = [CleanModules, new Dictionary<string, double>(CleanModules) { ["down_proj"] = 0.4 }, CleanModules],
        Tasks = tasks,
    };

    private static RubricContext Context(EvaluationMetrics metrics, RubricOverrides? overrides = null) =>
        new("quantize", "rtn", 4, 128, IsCausalLm: true, HasBaseline: true, metrics, overrides);

    private static ReportCard Answer(RubricContext context) =>
        RubricEngine.Answer(context, [.. RubricBank.Standard, .. TaskRubric.Questions(context.Metrics.Tasks)]);

    private static PromptCheck Check(string json)
    {
        using var document = JsonDocument.Parse(json);
        return PromptCheck.Parse(document.RootElement);
    }

    private static TaskResults Tasks(bool? judgeSays, double accuracy = 0.8, double? baselineAccuracy = 0.8)
    {
        var checkItem = new PromptRubricItem("Does it mention the whale?", Check("""{"contains": "whale"}"""));
        var freeForm = new PromptRubricItem("Is the response polite?", null);
        var task = new PromptTask("ds_t", 1, "Tell me", [checkItem, freeForm]);
        const string response = "the whale swims";
        var (yes, evidence) = checkItem.Check!.Evaluate(response);
        RubricItemAnswer[] answers =
        [
            new(checkItem, yes, evidence),
            new(freeForm, judgeSays, judgeSays is null ? new Dictionary<string, object?>() : new Dictionary<string, object?> { ["judge_p_yes"] = 0.6 }),
        ];
        return new TaskResults([new PromptResult(task, response, "the whale dives", answers)],
            new ChoiceAccuracy(10, accuracy, baselineAccuracy, 2), judgeSays is null ? null : "mdl_judge");
    }

    [Fact]
    public void Answer_AddsBlockThenModuleChildren_OnlyUnderFailures_WhenPerplexityFails()
    {
        var card = Answer(Context(Metrics(perplexity: 12)));

        var perplexity = card.Items.Single(i => i.Id == "quality.perplexity_within_tolerance");
        Assert.False(perplexity.Answer);
        Assert.Equal(["diagnostics.block_output_error.0", "diagnostics.block_output_error.1", "diagnostics.block_output_error.2"],
            perplexity.Children.Select(c => c.Id));
        Assert.Empty(perplexity.Children[0].Children);
        Assert.Empty(perplexity.Children[2].Children);
        var modules = perplexity.Children[1].Children;
        Assert.Equal(7, modules.Count);
        Assert.Equal("diagnostics.module_output_error.1.down_proj", Assert.Single(modules, m => !m.Answer).Id);
    }

    [Fact]
    public void Answer_AddsNoChildren_WhenPerplexityPasses()
    {
        var card = Answer(Context(Metrics(perplexity: 10.1)));

        var perplexity = card.Items.Single(i => i.Id == "quality.perplexity_within_tolerance");
        Assert.True(perplexity.Answer);
        Assert.Empty(perplexity.Children);
        Assert.All(card.Items, i => Assert.Empty(i.Children));
    }

    [Fact]
    public void Answer_ScoresOne_WhenEveryItemIncludingUserRubricIsYes()
    {
        var card = Answer(Context(Metrics(perplexity: 10.1, Tasks(judgeSays: true))));

        Assert.Contains(card.Items, i => i.Id == "task.prompt.ds_t.1.0");
        Assert.Contains(card.Items, i => i.Id == "task.prompt.ds_t.1.1" && i.Evidence["answered_by"] as string == "judge");
        Assert.Contains(card.Items, i => i.Id == "task.choices_accuracy");
        Assert.All(card.Items, i => Assert.True(i.Answer, i.Id));
        Assert.Equal(1.0, card.Score);
        Assert.Equal("pass", card.Verdict);
    }

    [Fact]
    public void Answer_DoesNotAskFreeFormQuestions_WhenThereIsNoJudge()
    {
        var card = Answer(Context(Metrics(perplexity: 10.1, Tasks(judgeSays: null))));

        Assert.Contains(card.Items, i => i.Id == "task.prompt.ds_t.1.0");
        Assert.DoesNotContain(card.Items, i => i.Id == "task.prompt.ds_t.1.1");
    }

    [Fact]
    public void Answer_DoesNotAskTaskQuestions_WhenNoTaskDatasetWasGiven()
    {
        var card = Answer(Context(Metrics(perplexity: 10.1)));

        Assert.DoesNotContain(card.Items, i => i.Category == "task");
    }

    [Theory]
    [InlineData(0.79, 0.8, null, true)]
    [InlineData(0.70, 0.8, null, false)]
    [InlineData(0.70, 0.8, 0.15, true)]
    public void Answer_ComparesChoiceAccuracyWithTheBaseline_WithOverridableDrop(double accuracy, double baseline, double? maxDrop, bool expected)
    {
        var context = Context(Metrics(10.1, Tasks(judgeSays: true, accuracy, baseline)), new RubricOverrides { MaxAccuracyDrop = maxDrop });

        var item = Answer(context).Items.Single(i => i.Id == "task.choices_accuracy");

        Assert.Equal(expected, item.Answer);
    }

    [Fact]
    public void Answer_ComparesChoiceAccuracyWithChance_WhenThereIsNoBaselineAccuracy()
    {
        var above = Answer(Context(Metrics(10.1, Tasks(true, accuracy: 0.6, baselineAccuracy: null)))).Items.Single(i => i.Id == "task.choices_accuracy");
        var chance = Answer(Context(Metrics(10.1, Tasks(true, accuracy: 0.5, baselineAccuracy: null)))).Items.Single(i => i.Id == "task.choices_accuracy");

        Assert.True(above.Answer);
        Assert.False(chance.Answer);
        Assert.Equal(0.5, chance.Evidence["threshold"]);
    }
}
