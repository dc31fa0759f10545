using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.Prune;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Prune.Compact;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune;

/// <summary>
/// Writes a pruned model in the source's Hugging Face layout (dense, with zeros, in the source dtype), for N:M also (or
/// only) in the compact layout (<see cref="NmCompactCodec"/>), and builds the job result. Tensors stream one at a time:
/// the prune callback gets each target in its stored dtype.
/// </summary>
internal sealed class PrunedModelWriter(PipelineContext context, ModelFolder folder, PrunePlan plan, PruneSpec spec, string method)
{
    private long _zeros;
    private long _elements;
    private int _done;

    /// <param name="prune">Zeroes the target tensor (in place or as a new tensor of the same shape and dtype).</param>
    /// <param name="progressStart">Progress fraction when writing starts; 0.9 when it ends.</param>
    /// <param name="cancellationToken">Checked before each target.</param>
    public async Task<PipelineResult> WriteAsync(Func<string, Tensor, Tensor> prune, double progressStart, CancellationToken cancellationToken)
    {
        var writer = new SafetensorsWriter();
        writer.Metadata["pruned_by"] = "optimizer/" + method;
        var compact = spec.WritesCompact ? new NmCompactTensors(spec.N, spec.M) : null;
        foreach (var name in folder.TensorNames)
        {
            var entry = folder.GetEntry(name);
            if (!plan.Targets.Contains(name))
            {
                writer.Add(name, entry.Dtype, entry.Shape, () => folder.ReadTensor(name));
                continue;
            }
            Tensor PruneTarget()
            {
                cancellationToken.ThrowIfCancellationRequested();
                var pruned = prune(name, folder.ReadTensor(name));
                Count(pruned);
                // Called from the writer's thread; the reporter is safe to block on there.
                context.Progress.ReportAsync("prune", progressStart + (0.9 - progressStart) * _done / plan.Targets.Count, name, cancellationToken)
                    .GetAwaiter().GetResult();
                return pruned;
            }
            if (spec.WritesDense)
            {
                writer.Add(name, entry.Dtype, entry.Shape, () =>
                {
                    var pruned = PruneTarget();
                    compact?.Capture(name, pruned);
                    return pruned;
                });
            }
            compact?.Register(writer, name, entry, PruneTarget);
        }
        await Task.Run(() => writer.Save(Path.Combine(context.OutputDir, ModelFolder.SingleFileName)), cancellationToken);

        var achieved = _elements == 0 ? 0 : (double)_zeros / _elements;
        var allocation = plan.LayerSparsity is null ? PruneOptions.UniformAllocation : PruneOptions.FarmsAllocation;
        ModelFiles.WriteConfig(folder, context.OutputDir, config =>
        {
            var pruning = new JsonObject
            {
                ["method"] = method,
                ["pattern"] = spec.Pattern,
                ["allocation"] = allocation,
                ["layout"] = spec.WritesCompact ? spec.Layout : PruneOptions.DenseLayout,
                ["target_sparsity"] = spec.Target,
                ["sparsity"] = achieved,
            };
            if (plan.LayerSparsity is { } layers)
            {
                pruning["layer_sparsity"] = ToJson(layers);
                pruning["layer_alpha"] = ToJson(plan.LayerAlpha ?? new Dictionary<string, double>());
            }
            config["pruning_config"] = pruning;
        });
        ModelFiles.CopySideFiles(context.Source.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("prune", 0.9, "Written", cancellationToken);

        var source = context.Source;
        var suffix = spec.IsNOfM ? $"{spec.N}of{spec.M}" : $"s{Math.Round(spec.Sparsity * 100)}";
        var info = new OutputModelInfo(
            $"{source.Model.Name}-{method}-{suffix}",
            folder.Config.Architectures.FirstOrDefault() ?? source.Model.Architecture,
            folder.TensorNames.Sum(n => folder.GetEntry(n).ElementCount),
            string.IsNullOrEmpty(source.Model.Dtype) ? folder.Config.TorchDtype ?? "float16" : source.Model.Dtype,
            Sparsity: achieved,
            SparsityPattern: spec.Pattern);
        return PipelineResult.ForModel(info, new Dictionary<string, object?>
        {
            ["sparsity"] = achieved,
            ["target_sparsity"] = spec.Target,
            ["pattern"] = spec.Pattern,
            ["allocation"] = allocation,
            ["pruned_layers"] = plan.Targets.Count,
            ["skipped_layers"] = plan.Skipped.Count,
        });
    }

    /// <summary>Checks the plan has work and warns about linears the pattern does not fit.</summary>
    public async Task AnnounceAsync(CancellationToken cancellationToken)
    {
        if (plan.Targets.Count == 0)
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams, $"No decoder linear fits pattern {spec.Pattern}; nothing to prune.");
        }
        if (plan.Skipped.Count > 0)
        {
            await context.Progress.EventAsync("warning", "plan",
                $"{plan.Skipped.Count} layer(s) kept dense: their input size is not a multiple of {spec.M}.", new { layers = plan.Skipped }, cancellationToken);
        }
        await context.Progress.EventAsync("info", "plan",
            $"Pruning {plan.Targets.Count} linear layers with {method}, pattern {spec.Pattern}, target sparsity {spec.Target:0.###}.", null, cancellationToken);
        if (plan.LayerSparsity is { } layers)
        {
            await context.Progress.EventAsync("info", "allocate",
                $"FARMS allocation: per-layer sparsity {layers.Values.Min():0.###}..{layers.Values.Max():0.###} (parameter-weighted mean {spec.Target:0.###}).",
                new { layer_sparsity = layers, layer_alpha = plan.LayerAlpha }, cancellationToken);
        }
    }

    private static JsonObject ToJson(IReadOnlyDictionary<string, double> values) =>
        new(values.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(double.IsFinite(p.Value) ? Math.Round(p.Value, 6) : (double?)null))));

    private void Count(Tensor pruned)
    {
        using var zeros = pruned.eq(0).sum();
        _zeros += zeros.item<long>();
        _elements += pruned.numel();
        _done++;
    }
}
