using Optimizer.Domain.Methods.Evaluate.Standard;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Evaluation.Tasks;

/// <summary>The task part of a causal-LM evaluation: reads the task datasets, fetches the judge and runs <see cref="LanguageModelTasks"/>.</summary>
public static class TaskEvaluationStep
{
    public static async Task<TaskResults?> MeasureAsync(IDatasetText datasets, EvaluationRequest request, CancellationToken cancellationToken)
    {
        var spec = request.Spec;
        if (spec.TaskDatasetIds is not { Count: > 0 } ids)
        {
            return null;
        }
        await request.Context.Progress.ReportAsync("evaluate", 0.98, "Task datasets: generations, rubric checks, choices", cancellationToken);
        var tasks = TaskSet.Empty;
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            tasks = tasks.Concat(TaskSet.Parse(id, await datasets.LoadAsync(request.Job.TenantId, id, cancellationToken)));
        }
        SourceModel? judge = null;
        if (spec.JudgeModelId is { } judgeId && tasks.HasFreeFormQuestions)
        {
            judge = judgeId == request.Candidate.Model.Id ? request.Candidate : await request.Context.Models.FetchAsync(judgeId, cancellationToken);
        }
        var models = new TaskModels(request.Candidate.LocalDir, request.Baseline?.LocalDir, judge?.LocalDir, judge?.Model.Id, spec.BudgetMb);
        return await LanguageModelTasks.RunAsync(models, tasks, spec.MaxNewTokens ?? EvaluationTasks.DefaultMaxNewTokens, cancellationToken);
    }
}
