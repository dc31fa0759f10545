using Optimizer.Worker.Calibration;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune.Wanda;

/// <summary>
/// Wanda on the layer-by-layer loop (ALGORITHMS.md 0.2, 2.2; <see cref="LayerwiseCalibrator"/>): feed the calibration
/// windows through block i, summing x_j² over every token for the input of each of its linears, score |W_ij|·‖X_j‖₂,
/// prune per output row (or N:M), then run the pruned block again so block i + 1 calibrates on what the pruned model computes.
/// </summary>
/// <remarks>One pass per block (not true-sequential), as Wanda's reference does.</remarks>
public static class WandaCalibrator
{
    /// <param name="model">Pruned in place.</param>
    /// <param name="windows">Token ids [samples, T].</param>
    /// <param name="specFor">Pattern and sparsity of a weight (Hugging Face name); null when it is not pruned.</param>
    /// <param name="onLayer">Called after each block with its index.</param>
    /// <param name="cancellationToken">Checked between blocks.</param>
    /// <param name="checkpoint">The job's checkpoint, to resume after the last pruned block (null outside a job).</param>
    public static void Prune(LlamaForCausalLM model, Tensor windows, Func<string, PruneSpec?> specFor,
        Action<int> onLayer, CancellationToken cancellationToken, JobCheckpoint? checkpoint = null) =>
        LayerwiseCalibrator.Run(model, windows, new CalibrationSettings(Checkpoint: checkpoint), new Observer(specFor), onLayer, cancellationToken);

    /// <summary>Zeroes the lowest |W_ij|·‖X_j‖₂ of <paramref name="weight"/> in place: per output row, or N:M.</summary>
    /// <param name="weight">[out, in].</param>
    /// <param name="squaredNorms">Σ over calibration tokens of x_j², [in].</param>
    /// <param name="spec">Pattern and sparsity.</param>
    public static void PruneLinear(Tensor weight, Tensor squaredNorms, PruneSpec spec)
    {
        using var scope = torch.NewDisposeScope();
        var score = weight.abs() * squaredNorms.sqrt().unsqueeze(0);
        weight.masked_fill_(PruneMask.Select(score, spec, PruneScope.PerRow), 0);
    }

    /// <summary>Sums x² per input channel of each linear, then prunes the targets of the block.</summary>
    private sealed class Observer(Func<string, PruneSpec?> specFor) : ICalibrationObserver
    {
        private readonly Dictionary<string, Tensor> _norms = new(StringComparer.Ordinal);

        public void Observe(CalibrationBlock block, BlockLinear linear, Tensor input, Tensor? fullPrecisionInput)
        {
            if (!_norms.TryGetValue(linear.Name, out var norms))
            {
                norms = torch.zeros(input.shape[1], ScalarType.Float32).DetachFromDisposeScope();
                _norms[linear.Name] = norms;
            }
            // 0L, not 0: a literal 0 binds to sum(ScalarType?) and sums everything.
            norms.add_(input.square().sum(0L));
        }

        public void Update(CalibrationBlock block, IReadOnlyList<BlockLinear> stage)
        {
            foreach (var linear in stage)
            {
                if (_norms.Remove(linear.Name, out var norms))
                {
                    if (specFor(linear.WeightName(block.Index)) is { } spec)
                    {
                        PruneLinear(linear.Module.weight!, norms, spec);
                    }
                    norms.Dispose();
                }
            }
        }
    }
}
