using Optimizer.Worker.Calibration;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune.SparseGpt;

/// <summary>
/// SparseGPT on <see cref="LayerwiseCalibrator"/>: accumulates each block input's Hessian <c>(2/N)·XᵀX</c> (one per input,
/// shared by the linears that read it: q/k/v, gate/up), then prunes every target linear of the stage with
/// <see cref="SparseGptSolver"/>.
/// </summary>
internal sealed class SparseGptObserver(Func<string, PruneSpec?> specFor, int blockSize, double damp) : ICalibrationObserver, IDisposable
{
    private readonly Dictionary<BlockInput, (string Owner, HessianAccumulator Hessian)> _hessians = [];

    public void Observe(CalibrationBlock block, BlockLinear linear, Tensor input, Tensor? fullPrecisionInput)
    {
        if (!_hessians.TryGetValue(linear.Input, out var entry))
        {
            entry = (linear.Name, new HessianAccumulator(input.shape[^1]));
            _hessians[linear.Input] = entry;
        }
        // Every linear reading this input is handed the same tensor: count it once.
        if (entry.Owner == linear.Name)
        {
            entry.Hessian.Add(input);
        }
    }

    public void Update(CalibrationBlock block, IReadOnlyList<BlockLinear> stage)
    {
        foreach (var linear in stage)
        {
            if (specFor(linear.WeightName(block.Index)) is { } spec && _hessians.TryGetValue(linear.Input, out var entry))
            {
                SparseGptSolver.Prune(linear.Module.weight!, entry.Hessian.Value, spec, blockSize, damp);
            }
        }
        Dispose();
    }

    public void Dispose()
    {
        foreach (var (_, hessian) in _hessians.Values)
        {
            hessian.Dispose();
        }
        _hessians.Clear();
    }
}
