using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Evaluate.Standard;
using Optimizer.Domain.Reports;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Evaluation;

/// <summary>Computes a candidate model's metrics against a baseline and answers the APB rubric.</summary>
public interface IModelEvaluator
{
    /// <summary>Returns an unsaved <see cref="Report"/> (the caller saves it with the rest of the job's results).</summary>
    Task<EvaluationOutcome> EvaluateAsync(EvaluationRequest request, CancellationToken cancellationToken);
}

/// <summary>One evaluation: the candidate, its baseline (optional), and the job's evaluation block.</summary>
public sealed record EvaluationRequest(
    Job Job,
    SourceModel Candidate,
    SourceModel? Baseline,
    EvaluationSpec Spec,
    PipelineContext Context);

public sealed record EvaluationOutcome(Report Report, IReadOnlyDictionary<string, object?> Metrics);
