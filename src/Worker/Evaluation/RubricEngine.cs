using Optimizer.Domain.Reports;

namespace Optimizer.Worker.Evaluation;

/// <summary>Selects the relevant questions, answers them and scores the result.</summary>
/// <remarks>Score = weighted fraction of top-level items answered yes; verdict <c>pass</c> iff every critical item is yes.</remarks>
public static class RubricEngine
{
    public static ReportCard Answer(RubricContext context, IReadOnlyList<RubricQuestion> bank)
    {
        var thresholds = RubricThresholds.For(context);
        var excluded = context.Overrides?.Exclude?.ToHashSet(StringComparer.Ordinal) ?? [];
        var items = new List<ReportItem>();
        foreach (var question in bank)
        {
            if (excluded.Contains(question.Id) || !question.IsRelevant(context))
            {
                continue;
            }
            var answer = question.Check(context, thresholds);
            var children = !answer.Yes && question.DrillDown is not null ? question.DrillDown(context, thresholds) : [];
            items.Add(new ReportItem(
                question.Id,
                question.Question(context, thresholds),
                question.Category,
                answer.Yes,
                answer.Evidence,
                question.Weight,
                question.IsCritical(context, thresholds),
                children));
        }
        var totalWeight = items.Sum(i => i.Weight);
        var score = totalWeight > 0 ? items.Where(i => i.Answer).Sum(i => i.Weight) / totalWeight : 0;
        var pass = items.Count > 0 && items.Where(i => i.Critical).All(i => i.Answer);
        return new ReportCard(items, score, pass ? "pass" : "fail", items.Count, items.Count(i => i.Answer), thresholds);
    }
}

/// <summary>The answered rubric.</summary>
public sealed record ReportCard(
    IReadOnlyList<ReportItem> Items,
    double Score,
    string Verdict,
    int ItemsTotal,
    int ItemsPassed,
    RubricThresholds Thresholds);
