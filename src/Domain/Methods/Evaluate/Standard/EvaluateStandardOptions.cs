using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Evaluate.Standard;

/// <summary>Evaluate a model against a baseline and write an APB report (ALGORITHMS.md Part B).</summary>
[Method("evaluate", "standard",
    Description = "Perplexity, KL divergence and top-1 agreement against a baseline, answered as an Adaptive Precise Boolean report.",
    ReferenceUrl = "https://research.google/blog/a-scalable-framework-for-evaluating-health-language-models/")]
public sealed record EvaluateStandardOptions : IValidatableObject
{
    [Description("Model to compare against; default: the evaluated model's parent source model, if any.")]
    public string? BaselineModelId { get; init; }

    [Description("Evaluation text; default: the built-in held-out Moby-Dick chapters.")]
    public string? DatasetId { get; init; }

    [Description("Perplexity window in tokens (non-overlapping); default min(2048, max_position_embeddings).")]
    [Range(8, 32768)]
    public int? SeqLen { get; init; }

    [Description("Cap on evaluated tokens; default: the whole dataset.")]
    [Range(16, 100_000_000)]
    public int? MaxTokens { get; init; }

    [Description("Rubric threshold overrides.")]
    public RubricOverrides? Rubric { get; init; }

    [Description("BitStack models only: evaluate the model truncated to this memory budget in MB (2^20 bytes), as GET /v1/models/{id}?budget_mb= describes it.")]
    [Range(0.001, 1e9)]
    public double? BudgetMb { get; init; }

    [Description("Task datasets (jsonl): lines with \"choices\" and \"answer\" are scored by log-likelihood accuracy; lines with a \"rubric\" array are answered on the model's greedy generation.")]
    [MaxLength(EvaluationTasks.MaxTaskDatasets)]
    public List<string>? TaskDatasetIds { get; init; }

    [Description("Optional judge model (a causal LM of yours) answering free-form rubric questions as P(\"Yes\") > P(\"No\") from its next-token logits.")]
    public string? JudgeModelId { get; init; }

    [Description("Tokens generated greedily per rubric prompt.")]
    [Range(1, 512)]
    public int? MaxNewTokens { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        Rubric?.Validate() ?? [];
}

/// <summary>The evaluation block of any job: evaluate the output against its source.</summary>
public sealed record EvaluationSpec
{
    [Description("Evaluation text; default: the built-in held-out Moby-Dick chapters.")]
    public string? DatasetId { get; init; }

    [Range(8, 32768)]
    public int? SeqLen { get; init; }

    [Range(16, 100_000_000)]
    public int? MaxTokens { get; init; }

    public RubricOverrides? Rubric { get; init; }

    [Description("BitStack models only: evaluate the model truncated to this memory budget in MB (2^20 bytes).")]
    [Range(0.001, 1e9)]
    public double? BudgetMb { get; init; }

    [Description("Task datasets (jsonl): choices accuracy and per-prompt rubrics.")]
    [MaxLength(EvaluationTasks.MaxTaskDatasets)]
    public List<string>? TaskDatasetIds { get; init; }

    [Description("Optional judge model answering free-form rubric questions.")]
    public string? JudgeModelId { get; init; }

    [Range(1, 512)]
    public int? MaxNewTokens { get; init; }
}

/// <summary>Limits and defaults of the task part of an evaluation (user rubrics, choices, judge).</summary>
public static class EvaluationTasks
{
    public const int MaxTaskDatasets = 8;
    public const int DefaultMaxNewTokens = 32;
}

/// <summary>Per-job thresholds of the report's questions (ALGORITHMS.md Part B defaults when null).</summary>
public sealed record RubricOverrides
{
    [Description("Largest accepted relative perplexity increase over the baseline (0.05 = 5 %).")]
    [Range(0.0, 100.0)]
    public double? MaxPerplexityIncrease { get; init; }

    [Description("Smallest accepted top-1 next-token agreement with the baseline.")]
    [Range(0.0, 1.0)]
    public double? MinTop1Agreement { get; init; }

    [Description("Largest accepted mean token KL(baseline || model) in nats.")]
    [Range(0.0, 100.0)]
    public double? MaxMeanKl { get; init; }

    [Description("Largest accepted drop of jsonl_choices accuracy below the baseline's (0.02 = 2 points).")]
    [Range(0.0, 1.0)]
    public double? MaxAccuracyDrop { get; init; }

    [Description("Item ids to leave out of the report.")]
    public List<string>? Exclude { get; init; }

    public IEnumerable<ValidationResult> Validate()
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true);
        return results.Select(r => new ValidationResult(r.ErrorMessage, r.MemberNames.Select(m => "Rubric." + m)));
    }
}
