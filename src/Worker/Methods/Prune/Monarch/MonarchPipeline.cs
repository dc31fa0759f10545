using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.Prune.Monarch;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Monarch;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune.Monarch;

/// <summary>
/// Monarch projection (ALGORITHMS.md 2.6): each chosen decoder linear <c>W</c> is replaced by its closed-form Monarch
/// projection, stored as <c>&lt;module&gt;.blkdiag1</c> / <c>.blkdiag2</c> (source dtype) instead of
/// <c>&lt;module&gt;.weight</c>, and listed in <c>config.json</c> <c>monarch_config</c> so the worker's Llama runs the
/// factored form. Weights only: streams tensor by tensor; each projected linear is checkpointed in a job.
/// </summary>
[JobPipeline("prune", "monarch")]
public sealed class MonarchPipeline : IJobPipeline<MonarchOptions>
{
    public const string Pattern = "monarch";

    public async Task<PipelineResult> RunAsync(PipelineContext context, MonarchOptions options, CancellationToken cancellationToken)
    {
        using var folder = ModelFiles.OpenSource(context.Source.LocalDir);
        var targets = Targets(folder, options);
        await context.Progress.EventAsync("info", "plan",
            $"Projecting {targets.Count} linear layers onto Monarch matrices with {options.Nblocks} blocks.", null, cancellationToken);

        var writer = new SafetensorsWriter();
        writer.Metadata["pruned_by"] = "optimizer/monarch";
        long denseParameters = 0;
        long factorParameters = 0;
        var done = 0;
        foreach (var name in folder.TensorNames)
        {
            var entry = folder.GetEntry(name);
            if (!targets.Contains(name))
            {
                writer.Add(name, entry.Dtype, entry.Shape, () => folder.ReadTensor(name));
                continue;
            }
            var (rows, columns, blocks) = (entry.Shape[0], entry.Shape[1], options.Nblocks);
            denseParameters += rows * columns;
            factorParameters += blocks * (rows + columns);
            var module = name[..^".weight".Length];
            Tensor? second = null;
            writer.Add(module + ".blkdiag1", entry.Dtype, [blocks, blocks, columns / blocks], () =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (first, last) = context.Checkpoint.ComputeOrRestore(name, () => Project(folder, name, blocks), Factors, cancellationToken);
                second = last;
                context.Progress.ReportAsync("project", 0.05 + 0.85 * ++done / targets.Count, name, cancellationToken).GetAwaiter().GetResult();
                return first;
            });
            // Same dtype, name sorts right after blkdiag1: written next, so only one factor waits.
            writer.Add(module + ".blkdiag2", entry.Dtype, [blocks, rows / blocks, blocks], () =>
                second ?? throw new InvalidOperationException($"{module}.blkdiag2 requested before blkdiag1."));
        }
        await Task.Run(() => writer.Save(Path.Combine(context.OutputDir, ModelFolder.SingleFileName)), cancellationToken);

        var sparsity = 1.0 - (double)factorParameters / denseParameters;
        var monarch = new MonarchConfig(options.Nblocks, [.. targets.Order(StringComparer.Ordinal).Select(t => t[..^".weight".Length])]);
        ModelFiles.WriteConfig(folder, context.OutputDir, config =>
        {
            config[MonarchConfig.Key] = monarch.ToJson();
            config["pruning_config"] = new JsonObject { ["method"] = "monarch", ["pattern"] = Pattern, ["sparsity"] = sparsity };
        });
        ModelFiles.CopySideFiles(context.Source.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("project", 0.9, "Written", cancellationToken);

        var source = context.Source;
        var info = new OutputModelInfo(
            $"{source.Model.Name}-monarch-b{options.Nblocks}",
            folder.Config.Architectures.FirstOrDefault() ?? source.Model.Architecture,
            folder.TensorNames.Sum(n => folder.GetEntry(n).ElementCount) - denseParameters + factorParameters,
            string.IsNullOrEmpty(source.Model.Dtype) ? folder.Config.TorchDtype ?? "float16" : source.Model.Dtype,
            Sparsity: sparsity,
            SparsityPattern: Pattern);
        return PipelineResult.ForModel(info, new Dictionary<string, object?>
        {
            ["sparsity"] = sparsity,
            ["pattern"] = Pattern,
            ["nblocks"] = options.Nblocks,
            ["projected_layers"] = targets.Count,
        });
    }

    /// <summary>Both Monarch factors of one linear, in its dtype.</summary>
    private static (Tensor First, Tensor Second) Project(ModelFolder folder, string name, int blocks)
    {
        using var weight = folder.ReadTensor(name);
        var (first, last) = MonarchProjection.Project(weight, blocks);
        using (first)
        using (last)
        {
            return (first.to(weight.dtype).DetachFromDisposeScope(), last.to(weight.dtype).DetachFromDisposeScope());
        }
    }

    /// <summary>One projected linear per checkpoint key: a retry after a crash restores it instead of projecting it again.</summary>
    private static readonly CheckpointCodec<(Tensor First, Tensor Second)> Factors = new(
        (tensors, factors) => tensors.Add("blkdiag1", factors.First).Add("blkdiag2", factors.Second),
        saved => (saved.ReadTensor("blkdiag1"), saved.ReadTensor("blkdiag2")));

    /// <summary>The decoder linears named by <c>targets</c>; every one must split into <c>nblocks</c> both ways.</summary>
    private static HashSet<string> Targets(ModelFolder folder, MonarchOptions options)
    {
        var targets = folder.TensorNames
            .Where(n => ModelFiles.IsDecoderLinear(n, folder.GetEntry(n)) && options.Targets.Any(t => n.EndsWith("." + t + ".weight", StringComparison.Ordinal)))
            .ToHashSet(StringComparer.Ordinal);
        if (targets.Count == 0)
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams, $"The model has no decoder linear named {string.Join(", ", options.Targets)}.");
        }
        var misfit = targets.FirstOrDefault(t => folder.GetEntry(t).Shape.Any(d => d % options.Nblocks != 0));
        if (misfit is not null)
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams,
                $"{misfit} [{string.Join(", ", folder.GetEntry(misfit).Shape)}] does not split into {options.Nblocks} blocks both ways.");
        }
        return targets;
    }
}
