namespace Optimizer.Worker.Evaluation.Tasks;

/// <summary>
/// The user's per-prompt rubric items as bank questions (category <c>task</c>), so they are selected, excluded and
/// scored like the standard ones. Ids are stable across reports built from the same dataset:
/// <c>task.prompt.{dataset}.{line}.{index}</c>.
/// </summary>
public static class TaskRubric
{
    public static IReadOnlyList<RubricQuestion> Questions(TaskResults? results)
    {
        if (results is null)
        {
            return [];
        }
        var questions = new List<RubricQuestion>();
        foreach (var prompt in results.Prompts)
        {
            for (var k = 0; k < prompt.Answers.Count; k++)
            {
                var answer = prompt.Answers[k];
                var evidence = new Dictionary<string, object?>
                {
                    ["prompt"] = prompt.Task.Prompt,
                    ["response"] = prompt.Response,
                    ["baseline_response"] = prompt.BaselineResponse,
                    ["answered_by"] = answer.Item.Check is null ? "judge" : "check",
                    ["check"] = answer.Item.Check?.Describe(),
                };
                foreach (var (key, value) in answer.Evidence)
                {
                    evidence[key] = value;
                }
                questions.Add(new RubricQuestion
                {
                    Id = $"task.prompt.{prompt.Task.Source}.{prompt.Task.Line}.{k}",
                    Category = "task",
                    // Free-form questions are asked only when a judge model can answer them.
                    IsRelevant = _ => answer.Yes is not null,
                    Question = (_, _) => answer.Item.Question,
                    Check = (_, _) => new RubricAnswer(answer.Yes == true, evidence),
                });
            }
        }
        return questions;
    }
}
