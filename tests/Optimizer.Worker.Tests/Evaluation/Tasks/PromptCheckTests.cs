using System.Text.Json;
using Optimizer.Worker.Evaluation.Tasks;

namespace Optimizer.Worker.Tests.Evaluation.Tasks;

public sealed class PromptCheckTests
{
    private static PromptCheck Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return PromptCheck.Parse(document.RootElement);
    }

    [Theory]
    [InlineData("""{"contains": "whale"}""", "The White Whale rose.", true)]
    [InlineData("""{"contains": "whale", "case_sensitive": true}""", "The White Whale rose.", false)]
    [InlineData("""{"contains": "ship"}""", "The White Whale rose.", false)]
    [InlineData("""{"not_contains": "ship"}""", "The White Whale rose.", true)]
    [InlineData("""{"not_contains": "WHALE"}""", "The White Whale rose.", false)]
    [InlineData("""{"equals": "Ahab"}""", "  ahab \n", true)]
    [InlineData("""{"equals": "Ahab"}""", "Captain Ahab", false)]
    [InlineData("""{"regex": "^\\s*\\d{4}\\b"}""", " 1851, New York", true)]
    [InlineData("""{"regex": "^\\d+$"}""", "about 1851", false)]
    [InlineData("""{"number_within": {"value": 42, "tolerance": 0.5}}""", "The answer is 42.3 exactly", true)]
    [InlineData("""{"number_within": {"value": 42, "tolerance": 0.5}}""", "The answer is 43", false)]
    [InlineData("""{"number_within": [10, 20]}""", "It took -3 days", false)]
    [InlineData("""{"number_within": [-5, 0]}""", "It took -3 days", true)]
    [InlineData("""{"number_within": [1, 2]}""", "no number here", false)]
    public void Evaluate_AnswersTheCheck_ForResponse(string check, string response, bool expected)
    {
        var (yes, evidence) = Parse(check).Evaluate(response);

        Assert.Equal(expected, yes);
        Assert.NotEmpty(evidence);
    }

    [Theory]
    [InlineData("""{"contains": 3}""")]
    [InlineData("""{"contains": "a", "equals": "b"}""")]
    [InlineData("""{"starts_with": "a"}""")]
    [InlineData("""{"regex": "(unclosed"}""")]
    [InlineData("""{"number_within": {"value": 1, "tolerance": -1}}""")]
    [InlineData("""{"number_within": [3, 1]}""")]
    [InlineData("""["contains", "a"]""")]
    public void Parse_Throws_WhenCheckIsMalformed(string check)
    {
        Assert.Throws<FormatException>(() => Parse(check));
    }

    [Fact]
    public void Evaluate_AnswersNo_WhenRegexTimesOut()
    {
        // Catastrophic backtracking on a long non-matching input: the one-second timeout answers no instead of hanging.
        var check = Parse("""{"regex": "^(a+)+$"}""");

        var (yes, evidence) = check.Evaluate(new string('a', 40) + "!");

        Assert.False(yes);
        Assert.Equal("timed out", evidence["error"]);
    }
}
