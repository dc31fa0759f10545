using Optimizer.Worker.Evaluation.Tasks;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Tests.Evaluation.Tasks;

public sealed class TaskSetTests
{
    [Fact]
    public void Parse_ReadsPromptAndChoiceLines_AndIgnoresPlainText()
    {
        const string jsonl = """
            {"prompt": "Call me", "rubric": [{"question": "Does it name Ishmael?", "check": {"contains": "Ishmael"}}, {"question": "Is it polite?"}]}
            {"text": "plain text lines are not tasks"}

            {"prompt": "The whale is", "choices": ["white", "green"], "answer": 0}
            """;

        var tasks = TaskSet.Parse("ds_1", jsonl);

        var prompt = Assert.Single(tasks.Prompts);
        Assert.Equal((1, "Call me"), (prompt.Line, prompt.Prompt));
        Assert.Equal("contains", prompt.Rubric[0].Check!.Kind);
        Assert.Null(prompt.Rubric[1].Check);
        Assert.True(tasks.HasFreeFormQuestions);
        var choice = Assert.Single(tasks.Choices);
        Assert.Equal((4, 0, 2), (choice.Line, choice.Answer, choice.Choices.Count));
    }

    [Theory]
    [InlineData("""{"prompt": "x", "rubric": [{"check": {"contains": "a"}}]}""", "line 1")]
    [InlineData("""{"prompt": "x", "rubric": [{"question": "q", "check": {"bogus": 1}}]}""", "line 1")]
    [InlineData("{\"text\": \"a\"}\n{\"prompt\": \"x\", \"choices\": [\"a\", \"b\"], \"answer\": 5}", "line 2")]
    [InlineData("{\"prompt\": \"x\", \"rubric\": []}\nnot json", "line 2")]
    [InlineData("""{"text": "no tasks at all"}""", "no line")]
    public void Parse_FailsWithInvalidDataset_NamingTheProblem(string jsonl, string expected)
    {
        var error = Assert.Throws<JobFailedException>(() => TaskSet.Parse("ds_1", jsonl));

        Assert.Equal(JobErrorCodes.InvalidDataset, error.Code);
        Assert.Contains(expected, error.Message);
    }
}
