using System.Globalization;
using Optimizer.Domain.Methods.Quantize.Gptq;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Gptq;

/// <summary>
/// GPTQ on the layer-by-layer loop: accumulates each target linear's Hessian (and, with a correction, the cross term of
/// the full-precision and quantized streams), solves it when its stage ends, writes the dequantized weight back into the
/// model so later stages and blocks see the quantized model, and keeps the packed result.
/// </summary>
internal sealed class GptqObserver(GptqOptions options, RtnSpec spec, IReadOnlySet<string> targets)
    : ICalibrationObserver, ICheckpointedObserver, IDisposable
{
    private readonly Dictionary<string, HessianAccumulator> _hessians = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HessianAccumulator> _crossTerms = new(StringComparer.Ordinal);
    private readonly IntColumnQuantizer _quantizer = new(spec);
    private readonly GptqSolverSettings _settings = new(options.GroupSize, options.BlockSize, options.ActOrder, options.StaticGroups, options.DampPercent);

    /// <summary>Packed linears by weight name.</summary>
    public Dictionary<string, GptqLinear> Packed { get; } = new(StringComparer.Ordinal);

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
                using var solution = GptqSolver.Solve(linear.Module.weight!, hessian.Value, _quantizer, _settings, correction);
                using (torch.no_grad())
                {
                    linear.Module.weight!.copy_(solution.Quantized);
                }
                Packed[name] = GptqPacker.Pack(solution, spec);
                Loss += solution.Loss;
            }
        }
    }

    public void SaveBlock(int index, SafetensorsWriter tensors)
    {
        PackedCheckpoint.AddBlock(tensors, Packed, index, PackedCheckpoint.AddGptq);
        tensors.Metadata[LossKey] = Loss.ToString("R", CultureInfo.InvariantCulture);
    }

    public void RestoreBlock(int index, SafetensorsFile saved)
    {
        PackedCheckpoint.ReadBlock(saved, Packed, PackedCheckpoint.ReadGptq);
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
