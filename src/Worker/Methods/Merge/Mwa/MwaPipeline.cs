using Optimizer.Domain.Methods.Merge.Mwa;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Merge.Linear;
using Optimizer.Worker.Methods.Merge.Shared;

namespace Optimizer.Worker.Methods.Merge.Mwa;

/// <summary>
/// MWA over checkpoints of one run: the metric weights (<see cref="MwaWeights"/>) feed a linear merge of the full
/// checkpoint weights. For LoRA checkpoints <c>θ_i = W₀ + B_iA_i</c>, so <c>Σ w_i θ_i = W₀ + Σ w_i B_iA_i</c>: this is the
/// ΔW = BA variant of the paper's merge (recorded in the output config).
/// </summary>
[JobPipeline("merge", "mwa")]
public sealed class MwaPipeline : IJobPipeline<MwaOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, MwaOptions options, CancellationToken cancellationToken)
    {
        var weights = MwaWeights.Compute(options.Checkpoints, options.Metric, options.Penalty);
        var models = new List<MergeInput>();
        for (var i = 0; i < options.Checkpoints.Count; i++)
        {
            var source = await MergeInputs.FindAsync(context, options.Checkpoints[i].ModelId, cancellationToken);
            models.Add(new MergeInput(source, weights[i], $"params.checkpoints[{i}]"));
        }
        await context.Progress.EventAsync("info", "plan",
            $"MWA over {models.Count} checkpoints, {options.Metric}-weighted with p = {options.Penalty:0.###}.",
            new { weights }, cancellationToken);
        using var stream = MergeStream.Open(new MergeInputs(null, models));
        return await stream.WriteAsync(context, new MergeWriteSpec("mwa", t => LinearMerge.Combine(t.All, t.Weights, normalize: false))
        {
            EditConfig = config => config["merge_config"]!["mwa"] = new System.Text.Json.Nodes.JsonObject
            {
                ["metric"] = options.Metric,
                ["penalty"] = options.Penalty,
                ["space"] = "full weights (equivalent to delta W = BA for adapter checkpoints)",
                ["steps"] = new System.Text.Json.Nodes.JsonArray([.. options.Checkpoints.Select(c => (System.Text.Json.Nodes.JsonNode?)c.Step)]),
            },
            Metrics = new Dictionary<string, object?> { ["mwa_weights"] = weights, ["metric"] = options.Metric, ["penalty"] = options.Penalty },
        }, cancellationToken);
    }
}
