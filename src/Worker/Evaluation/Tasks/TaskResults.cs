namespace Optimizer.Worker.Evaluation.Tasks;

/// <summary>What the task datasets measured: per-prompt rubric answers and choice accuracy.</summary>
/// <param name="Prompts">One entry per prompt task, in dataset order.</param>
/// <param name="Choices">Choice accuracy, or null when no choice task was given.</param>
/// <param name="JudgeModelId">The judge model that answered free-form questions, or null.</param>
public sealed record TaskResults(IReadOnlyList<PromptResult> Prompts, ChoiceAccuracy? Choices, string? JudgeModelId)
{
    public static TaskResults Empty { get; } = new([], null, null);
}

/// <summary>A prompt's greedy responses and its rubric's answers.</summary>
public sealed record PromptResult(PromptTask Task, string Response, string? BaselineResponse, IReadOnlyList<RubricItemAnswer> Answers);

/// <summary>
/// One per-prompt rubric question answered: <see cref="Yes"/> is null when it could not be answered (a free-form
/// question without a judge model), so it is not asked.
/// </summary>
public sealed record RubricItemAnswer(PromptRubricItem Item, bool? Yes, IReadOnlyDictionary<string, object?> Evidence);

/// <summary>Log-likelihood multiple-choice accuracy of the candidate and (when given) the baseline.</summary>
public sealed record ChoiceAccuracy(int Questions, double Accuracy, double? BaselineAccuracy, double MeanChoices);
