using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Merge.Mwa;

/// <summary>One checkpoint of a training run with the metric it was saved with.</summary>
/// <param name="ModelId">The checkpoint, a usable model.</param>
/// <param name="Step">Training step it was saved at (&gt; 0 for step weighting).</param>
/// <param name="Loss">Its loss (&gt; 0 for loss weighting).</param>
public sealed record MwaCheckpoint(string ModelId, long Step, double? Loss = null);

/// <summary>
/// Metrics-weighted averaging of checkpoints of one run (ALGORITHMS.md 3.6): <c>w_i ∝ L_i^(−p)</c> (loss) or
/// <c>t_i^p</c> (step), normalised to sum to 1, then <c>θ = Σ w_i θ_i</c>.
/// </summary>
/// <remarks>
/// The checkpoints are listed explicitly (<see cref="Checkpoints"/>) or named by a fine-tune job (<see cref="JobId"/>):
/// the Api then maps that job's <c>GET /v1/jobs/{id}/checkpoints</c> entries (<c>{step, metrics.loss, model_id}</c>)
/// onto <see cref="Checkpoints"/> at submission, so the stored job lists the checkpoints it averages.
/// </remarks>
[Method("merge", "mwa",
    Description = "Metrics-weighted averaging of a run's checkpoints: weights from loss (L^-p) or step (t^p), normalised to sum to 1.",
    ReferenceUrl = "https://arxiv.org/abs/2504.18580")]
public sealed record MwaOptions : IMergeOptions, IModelReferences, IValidatableObject
{
    public const string LossMetric = "loss";
    public const string StepMetric = "step";

    /// <summary>Prefix of job ids (API.md): a <see cref="JobId"/> without it is malformed.</summary>
    public const string JobIdPrefix = "job_";

    [Description("The checkpoints to average: [{model_id, step, loss}] (at least two; loss is needed for metric \"loss\"). Leave empty when job_id is given.")]
    public IReadOnlyList<MwaCheckpoint> Checkpoints { get; init; } = [];

    [Description("A fine-tune job (job_…) whose checkpoints (GET /v1/jobs/{id}/checkpoints: step, metrics.loss, model_id) are averaged, instead of listing checkpoints. Resolved at submission: the job must be yours, a fine-tune, and have at least two checkpoints.")]
    public string? JobId { get; init; }

    [Description("\"loss\" (lower loss weighs more: w ∝ L^-p) or \"step\" (later checkpoints weigh more: w ∝ t^p).")]
    [AllowedValues(LossMetric, StepMetric)]
    public string Metric { get; init; } = LossMetric;

    [Description("Penalty factor p: 0 is a uniform average; larger values concentrate the weight on the best (or latest) checkpoint.")]
    [Range(0.0, 100.0)]
    public double Penalty { get; init; } = 1.0;

    [System.Text.Json.Serialization.JsonIgnore]
    public MergeInputRule Inputs => new(0, 0, MergeBase.Forbidden, "mwa takes its models from params.checkpoints, not 'models' or base_model_id");

    public IEnumerable<(string Field, string ModelId)> ReferencedModels() =>
        Checkpoints.Select((c, i) => ($"params.checkpoints[{i}].model_id", c.ModelId));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (JobId is null)
        {
            return CheckpointErrors();
        }
        var errors = new List<ValidationResult>();
        if (!JobId.StartsWith(JobIdPrefix, StringComparison.Ordinal) || JobId.Length == JobIdPrefix.Length)
        {
            errors.Add(new ValidationResult($"job_id must be a job id ({JobIdPrefix}…).", [nameof(JobId)]));
        }
        if (Checkpoints.Count > 0)
        {
            errors.Add(new ValidationResult("give either job_id or checkpoints, not both.", [nameof(Checkpoints)]));
        }
        return errors;
    }

    /// <summary>The rules of <see cref="Checkpoints"/>; the Api also applies them to the checkpoints it maps from a <see cref="JobId"/>.</summary>
    public IEnumerable<ValidationResult> CheckpointErrors()
    {
        if (Checkpoints.Count < 2 || Checkpoints.Count > 256)
        {
            yield return new ValidationResult("checkpoints needs between 2 and 256 entries.", [nameof(Checkpoints)]);
            yield break;
        }
        for (var i = 0; i < Checkpoints.Count; i++)
        {
            var point = Checkpoints[i];
            if (string.IsNullOrEmpty(point.ModelId))
            {
                yield return new ValidationResult($"checkpoints[{i}].model_id is required.", [nameof(Checkpoints)]);
            }
            if (Metric == LossMetric && !(point.Loss is { } loss && loss > 0 && double.IsFinite(loss)))
            {
                yield return new ValidationResult($"checkpoints[{i}].loss must be a positive number for metric \"loss\".", [nameof(Checkpoints)]);
            }
            if (Metric == StepMetric && point.Step <= 0)
            {
                yield return new ValidationResult($"checkpoints[{i}].step must be positive for metric \"step\".", [nameof(Checkpoints)]);
            }
        }
    }
}
