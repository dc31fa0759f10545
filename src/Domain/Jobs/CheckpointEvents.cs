namespace Optimizer.Domain.Jobs;

/// <summary>
/// How a fine-tune records an intermediate checkpoint model: a job event with stage <see cref="Stage"/> whose data is
/// <c>{step, metrics, model_id}</c>. <c>GET /v1/jobs/{id}/checkpoints</c> lists these events (no extra table).
/// </summary>
public static class CheckpointEvents
{
    public const string Stage = "checkpoint_model";
}
