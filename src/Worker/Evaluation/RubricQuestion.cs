using Optimizer.Domain.Reports;

namespace Optimizer.Worker.Evaluation;

/// <summary>One Precise Boolean question of the bank (ALGORITHMS.md Part B).</summary>
/// <remarks>
/// Implementers must keep <see cref="Id"/> stable (reports are diffed item by item), state the threshold in the
/// sentence, and make <see cref="Check"/> depend only on the context and thresholds — never on other items —
/// so that excluding one item cannot change another's answer.
/// </remarks>
public sealed class RubricQuestion
{
    public required string Id { get; init; }
    /// <summary><c>integrity</c>, <c>quality</c>, <c>efficiency</c>, <c>task</c> or <c>diagnostics</c>.</summary>
    public required string Category { get; init; }
    public double Weight { get; init; } = 1.0;
    /// <summary>Critical items decide the verdict. A function because some are critical only in some cases.</summary>
    public Func<RubricContext, RubricThresholds, bool> IsCritical { get; init; } = (_, _) => false;
    /// <summary>Adaptive selection: whether the question is asked for this case.</summary>
    public required Func<RubricContext, bool> IsRelevant { get; init; }
    /// <summary>The yes/no sentence with its threshold filled in.</summary>
    public required Func<RubricContext, RubricThresholds, string> Question { get; init; }
    /// <summary>The answer and the evidence it rests on.</summary>
    public required Func<RubricContext, RubricThresholds, RubricAnswer> Check { get; init; }
    /// <summary>
    /// Optional drill-down: finer questions asked only when this one is answered no (e.g. which blocks' output
    /// error explains a perplexity failure). Children are reported, not scored.
    /// </summary>
    public Func<RubricContext, RubricThresholds, IReadOnlyList<ReportItem>>? DrillDown { get; init; }
}

/// <summary>A question's answer with its evidence (numbers and thresholds, snake_case keys).</summary>
public sealed record RubricAnswer(bool Yes, IReadOnlyDictionary<string, object?> Evidence);
