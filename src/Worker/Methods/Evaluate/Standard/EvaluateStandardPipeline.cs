using Optimizer.Domain.Methods.Evaluate.Standard;
using Optimizer.Domain.Persistence;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.BitStack;

namespace Optimizer.Worker.Methods.Evaluate.Standard;

/// <summary>
/// Evaluates <c>job.model_id</c> against a baseline (<c>params.baseline_model_id</c>, else the model's first source
/// model) and stores an APB report. Produces no model.
/// </summary>
[JobPipeline("evaluate", "standard")]
public sealed class EvaluateStandardPipeline(IModelEvaluator evaluator, OptimizerDbContext db) : IJobPipeline<EvaluateStandardOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, EvaluateStandardOptions options, CancellationToken cancellationToken)
    {
        var candidate = context.Source;
        if (options.BudgetMb is { } budget)
        {
            var selection = BitStackBudget.Select(candidate.LocalDir, budget);
            await context.Progress.EventAsync("info", "evaluate",
                $"Loading {selection.LoadedBlocks} of {selection.TotalBlocks} BitStack blocks ({selection.SizeBytes} bytes) for a budget of {budget} MB.",
                null, cancellationToken);
        }
        var baselineId = options.BaselineModelId ?? candidate.Model.SourceModelIds.FirstOrDefault();
        SourceModel? baseline = null;
        if (baselineId is not null)
        {
            await context.Progress.ReportAsync("download", 0.1, $"Downloading baseline {baselineId}", cancellationToken);
            baseline = await context.Models.FetchAsync(baselineId, cancellationToken);
        }
        var spec = new EvaluationSpec
        {
            DatasetId = options.DatasetId,
            SeqLen = options.SeqLen,
            MaxTokens = options.MaxTokens,
            Rubric = options.Rubric,
            BudgetMb = options.BudgetMb,
            TaskDatasetIds = options.TaskDatasetIds,
            JudgeModelId = options.JudgeModelId,
            MaxNewTokens = options.MaxNewTokens,
        };
        var outcome = await evaluator.EvaluateAsync(new EvaluationRequest(context.Job, candidate, baseline, spec, context), cancellationToken);
        db.Reports.Add(outcome.Report);
        await db.SaveChangesAsync(cancellationToken);
        await context.Progress.EventAsync("info", "evaluate",
            $"Report {outcome.Report.Id}: {outcome.Report.Verdict}, score {outcome.Report.Score:0.###}.", null, cancellationToken);
        return new PipelineResult(null, outcome.Report.Id, outcome.Metrics);
    }
}
