using System.Text.Json;

namespace Optimizer.Api.Contracts.Jobs;

/// <summary>Body of <c>POST /v1/jobs</c> (and <c>/v1/jobs/estimate</c>). Everything is validated before queueing.</summary>
public sealed record CreateJobRequest
{
    /// <summary>quantize | prune | merge | finetune | evaluate.</summary>
    public string? Type { get; init; }
    /// <summary>A method of that type (see <c>GET /v1/methods</c>).</summary>
    public string? Method { get; init; }
    /// <summary>Source model (every type but merge).</summary>
    public string? ModelId { get; init; }
    /// <summary>Merge inputs.</summary>
    public IReadOnlyList<MergeInput>? Models { get; init; }
    /// <summary>Merge base model (optional).</summary>
    public string? BaseModelId { get; init; }
    /// <summary>The method's options; see its <c>params_schema</c>.</summary>
    public JsonElement? Params { get; init; }
    /// <summary>Optional; default: the built-in calibration dataset.</summary>
    public string? CalibrationDatasetId { get; init; }
    /// <summary>Optional: evaluate the output against its source (an <c>EvaluationSpec</c>).</summary>
    public JsonElement? Evaluation { get; init; }
    /// <summary>Optional label.</summary>
    public string? Name { get; init; }
    /// <summary>Optional one-off webhook URLs (absolute http/https).</summary>
    public IReadOnlyList<string>? Notify { get; init; }
}

/// <summary>One input model of a merge.</summary>
public sealed record MergeInput(string? ModelId, double Weight = 1.0);
