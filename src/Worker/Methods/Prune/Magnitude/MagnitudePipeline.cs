using Optimizer.Domain.Methods.Prune;
using Optimizer.Domain.Methods.Prune.Magnitude;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune.Magnitude;

/// <summary>
/// Magnitude pruning (ALGORITHMS.md 2.1): score |W|; unstructured compares all weights of a linear (one per-layer
/// threshold, as Wanda's repo), N:M compares within each row's blocks of M. Weights only: streams tensor by
/// tensor and never builds the model.
/// </summary>
[JobPipeline("prune", "magnitude")]
public sealed class MagnitudePipeline : IJobPipeline<MagnitudeOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, MagnitudeOptions options, CancellationToken cancellationToken)
    {
        var spec = PruneSpec.From(options);
        using var folder = ModelFiles.OpenSource(context.Source.LocalDir);
        var plan = await Task.Run(() => PrunePlan.For(folder, spec, options, cancellationToken), cancellationToken);
        var writer = new PrunedModelWriter(context, folder, plan, spec, "magnitude");
        await writer.AnnounceAsync(cancellationToken);
        return await writer.WriteAsync((name, weight) => PruneOrRestore(context.Checkpoint, name, weight, plan.SpecFor(name, spec),
            cancellationToken), 0.05, cancellationToken);
    }

    /// <summary>Each pruned linear is a checkpoint key: a retry after a crash restores it instead of pruning it again.</summary>
    private static Tensor PruneOrRestore(JobCheckpoint? checkpoint, string name, Tensor weight, PruneSpec spec, CancellationToken cancellationToken)
    {
        var pruned = checkpoint.ComputeOrRestore(name, () => Prune(weight, spec),
            new CheckpointCodec<Tensor>((tensors, value) => tensors.Add(name, value), saved => saved.ReadTensor(name)), cancellationToken);
        if (!ReferenceEquals(pruned, weight))
        {
            // The writer handed over a fresh tensor read for this call; the restored one replaces it.
            weight.Dispose();
        }
        return pruned;
    }

    /// <summary>Zeroes the lowest-|W| weights of one linear in place (any float dtype; scores in float32).</summary>
    public static Tensor Prune(Tensor weight, PruneSpec spec)
    {
        using (torch.NewDisposeScope())
        {
            weight.masked_fill_(PruneMask.Select(weight.to(ScalarType.Float32).abs(), spec, PruneScope.PerTensor), 0);
        }
        return weight;
    }
}
