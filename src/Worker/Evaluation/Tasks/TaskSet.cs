using System.Text.Json;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Evaluation.Tasks;

/// <summary>One per-prompt rubric item: a question, answered by <see cref="Check"/> or, when it has none, by a judge model.</summary>
public sealed record PromptRubricItem(string Question, PromptCheck? Check);

/// <summary>A prompt whose greedy generation is checked against its rubric.</summary>
public sealed record PromptTask(string Source, int Line, string Prompt, IReadOnlyList<PromptRubricItem> Rubric);

/// <summary>A multiple-choice line (<c>jsonl_choices</c>): the choice with the highest log-likelihood is the model's answer.</summary>
public sealed record ChoiceTask(string Source, int Line, string Prompt, IReadOnlyList<string> Choices, int Answer);

/// <summary>The tasks of the evaluation's task datasets.</summary>
public sealed record TaskSet(IReadOnlyList<PromptTask> Prompts, IReadOnlyList<ChoiceTask> Choices)
{
    public static TaskSet Empty { get; } = new([], []);

    public bool IsEmpty => Prompts.Count == 0 && Choices.Count == 0;

    /// <summary>Questions that need a judge model (no machine check).</summary>
    public bool HasFreeFormQuestions => Prompts.Any(p => p.Rubric.Any(r => r.Check is null));

    public TaskSet Concat(TaskSet other) => new([.. Prompts, .. other.Prompts], [.. Choices, .. other.Choices]);

    /// <summary>
    /// Reads a jsonl dataset: <c>{"prompt", "choices", "answer"}</c> lines become choice tasks, lines with a
    /// <c>"rubric": [{"question", "check"?}]</c> array become prompt tasks (a line may be both); other lines are ignored.
    /// </summary>
    /// <exception cref="JobFailedException">Code <c>invalid_dataset</c>, naming the line, when a line is malformed or no line is a task.</exception>
    public static TaskSet Parse(string source, string text)
    {
        var prompts = new List<PromptTask>();
        var choices = new List<ChoiceTask>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("prompt", out var p) || p.ValueKind != JsonValueKind.String)
                {
                    continue;
                }
                var prompt = p.GetString()!;
                if (root.TryGetProperty("choices", out var c) && c.ValueKind == JsonValueKind.Array && root.TryGetProperty("answer", out var a))
                {
                    var options = c.EnumerateArray().Select(e => e.GetString() ?? throw new FormatException("choices must be strings")).ToList();
                    var answer = a.GetInt32();
                    if (options.Count < 2 || answer < 0 || answer >= options.Count)
                    {
                        throw new FormatException("needs at least two choices and an answer index among them");
                    }
                    choices.Add(new ChoiceTask(source, i + 1, prompt, options, answer));
                }
                if (root.TryGetProperty("rubric", out var r) && r.ValueKind == JsonValueKind.Array)
                {
                    prompts.Add(new PromptTask(source, i + 1, prompt, [.. r.EnumerateArray().Select(ParseItem)]));
                }
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
            {
                throw new JobFailedException(JobErrorCodes.InvalidDataset, $"Task dataset {source}, line {i + 1}: {ex.Message}");
            }
        }
        if (prompts.Count == 0 && choices.Count == 0)
        {
            throw new JobFailedException(JobErrorCodes.InvalidDataset,
                $"Task dataset {source} has no line with \"choices\"/\"answer\" or a \"rubric\" array.");
        }
        return new TaskSet(prompts, choices);
    }

    private static PromptRubricItem ParseItem(JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("question", out var q) || q.ValueKind != JsonValueKind.String
            || string.IsNullOrWhiteSpace(q.GetString()))
        {
            throw new FormatException("every rubric item needs a non-empty \"question\" string");
        }
        var check = item.TryGetProperty("check", out var c) && c.ValueKind != JsonValueKind.Null ? PromptCheck.Parse(c) : null;
        return new PromptRubricItem(q.GetString()!, check);
    }
}
