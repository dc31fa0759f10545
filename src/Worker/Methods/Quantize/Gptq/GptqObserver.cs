using System.Globalization;
using Optimizer.Domain.Methods.Quantize.Gptq;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Gptq;

/// <summary>GPTQ on the integer grid, packed for the GPTQ checkpoint format.</summary>
internal sealed class GptqObserver(GptqOptions options, RtnSpec spec, IReadOnlySet<string> targets)
    : GptqObserver<GptqLinear>(options, new IntGptqRounding(spec), targets, PackedCheckpoint.AddGptq, PackedCheckpoint.ReadGptq);

/// <summary>
/// GPTQ on the layer-by-layer loop: accumulates each target linear's Hessian (and, with a correction, the cross term of
/// the full-precision and quantized streams), solves it on the grid of <paramref name="rounding"/> when its stage ends,
/// writes the stored weight back into the model so later stages and blocks see the quantized model, and keeps the
/// packed result. In a job, each finished block's packed linears and the running loss go into the block checkpoint
/// (<paramref name="addPacked"/> / <paramref name="readPacked"/> store one packed linear under a name prefix).
/// </summary>
internal class GptqObserver<TPacked>(GptqOptions options, IGptqRounding<TPacked> rounding, IReadOnlySet<string> targets,
    Action<SafetensorsWriter, string, TPacked> addPacked, Func<SafetensorsFile, string, TPacked> readPacked)
    : ICalibrationObserver, ICheckpointedObserver, IDisposable
{
    private readonly Dictionary<string, HessianAccumulator> _hessians = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HessianAccumulator> _crossTerms = new(StringComparer.Ordinal);
    private readonly GptqSolverSettings _settings = new(options.GroupSize, options.BlockSize, options.ActOrder, options.StaticGroups, options.DampPercent);

    /// <summary>Packed linears by weight name.</summary>
    public Dictionary<string, TPacked> Packed { get; } = new(StringComparer.Ordinal);

    /// <summary>Sum of the solvers' losses (GPTQ's error estimate).</summary>
    public double Loss { get; private set; }

    public bool Corrects => options.Correction != GptqOptions.NoCorrection;

    /// <summary>
    /// The Hessian accumulated so far for <paramref name="weightName"/> (null when none): methods that reshape a linear's
    /// input before it is solved (D²Quant's dual scale) read and rescale it in place.
    /// </summary>
    public Tensor? HessianOf(string weightName) => _hessians.TryGetValue(weightName, out var hessian) ? hessian.Value : null;

    public void Observe(CalibrationBlock block, BlockLinear linear, Tensor input, Tensor? fullPrecisionInput)
    {
        var name = linear.WeightName(block.Index);
        if (!targets.Contains(name))
        {
            return;
        }
        Accumulator(_hessians, name, input.shape[1]).Add(input);
        if (Corrects && fullPrecisionInput is not null)
        {
            using var difference = fullPrecisionInput - input;
            Accumulator(_crossTerms, name, input.shape[1]).Add(difference, input);
        }
    }

    public void Update(CalibrationBlock block, IReadOnlyList<BlockLinear> stage)
    {
        foreach (var linear in stage)
        {
            var name = linear.WeightName(block.Index);
            if (!_hessians.Remove(name, out var hessian))
            {
                continue;
            }
            _crossTerms.Remove(name, out var cross);
            using (hessian)
            using (cross)
            using (var scope = torch.NewDisposeScope())
            {
                var correction = cross is null ? null : new GptqCorrection(cross.Value, options.CorrectionAlpha,
                    options.Correction == GptqOptions.ResComp ? options.CorrectionAlpha : 0);
                var weight = linear.Module.weight!;
                var quantizer = rounding.QuantizerFor(weight);
                using var solution = GptqSolver.Solve(weight, hessian.Value, quantizer, _settings, correction);
                var (packed, stored) = rounding.Pack(solution, weight, quantizer);
                using (torch.no_grad())
                {
                    weight.copy_(stored);
                }
                Packed[name] = packed;
                Loss += solution.Loss;
            }
        }
    }

    public void SaveBlock(int index, SafetensorsWriter tensors)
    {
        PackedCheckpoint.AddBlock(tensors, Packed, index, addPacked);
        tensors.Metadata[LossKey] = Loss.ToString("R", CultureInfo.InvariantCulture);
    }

    public void RestoreBlock(int index, SafetensorsFile saved)
    {
        PackedCheckpoint.ReadBlock(saved, Packed, readPacked);
        Loss = double.Parse(saved.Metadata[LossKey], CultureInfo.InvariantCulture);
    }

    private const string LossKey = "gptq_loss";

    private static HessianAccumulator Accumulator(Dictionary<string, HessianAccumulator> accumulators, string name, long features)
    {
        if (!accumulators.TryGetValue(name, out var accumulator))
        {
            accumulator = new HessianAccumulator(features);
            accumulators[name] = accumulator;
        }
        return accumulator;
    }

    public void Dispose()
    {
        foreach (var accumulator in _hessians.Values.Concat(_crossTerms.Values))
        {
            accumulator.Dispose();
        }
    }
}
