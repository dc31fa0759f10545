using Optimizer.Domain.Models;

namespace Optimizer.Worker.Execution;

/// <summary>What a pipeline produced.</summary>
/// <param name="Output">Describes the model written to the output folder; null when the job makes no model (evaluate).</param>
/// <param name="ReportId">A report the pipeline stored itself (evaluate jobs).</param>
/// <param name="Metrics">Numbers copied into <c>Job.MetricsJson</c>.</param>
public sealed record PipelineResult(
    OutputModelInfo? Output,
    string? ReportId,
    IReadOnlyDictionary<string, object?> Metrics)
{
    public static PipelineResult ForModel(OutputModelInfo output, IReadOnlyDictionary<string, object?>? metrics = null) =>
        new(output, null, metrics ?? new Dictionary<string, object?>());
}

/// <summary>The registry facts of an output model (its files come from the output folder).</summary>
public sealed record OutputModelInfo(
    string Name,
    string Architecture,
    long ParameterCount,
    string Dtype,
    QuantizationInfo? Quantization = null,
    double? Sparsity = null,
    string? SparsityPattern = null);
