using System.Text.Json;

namespace Optimizer.Api.Contracts.Jobs;

/// <summary>One fine-tuning checkpoint: a usable model saved at <paramref name="Step"/>.</summary>
/// <param name="Step">Optimizer steps done when it was saved.</param>
/// <param name="Metrics">What training measured at that step (e.g. <c>loss</c>).</param>
/// <param name="ModelId">The checkpoint's model (<c>GET /v1/models/{id}</c>; evaluate, merge or download it like any model).</param>
/// <param name="CreatedAt">When it was saved.</param>
public sealed record CheckpointResponse(int Step, JsonElement? Metrics, string ModelId, DateTimeOffset CreatedAt);
