using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Domain.Methods.Quantize.Gptq;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Gptq;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Fp4;

/// <summary>
/// FP4 with GPTQ rounding (<c>rounding: gptq</c>; ZeroQuant-FP quantizes its FP4 weights through GPTQ): the layer-by-layer
/// calibration loop with <see cref="GptqSolver"/> on the E2M1 grid (<see cref="Fp4ColumnQuantizer"/>), the quantized
/// blocks fed forward, each linear stored in the fp4 layout (docs/formats/fp4.md).
/// </summary>
/// <remarks>
/// Groups are static (fitted on the original weights in column order, GPTQ's <c>static_groups</c>): the fp4 layout has
/// no <c>g_idx</c>, so even with act-order every column keeps its natural group. LoRC then fits the error of the stored
/// FP4 weight against the original one, and the weight written back for later layers includes it.
/// </remarks>
public sealed class Fp4GptqRounding(Fp4Spec spec) : IGptqRounding<Fp4Linear>
{
    /// <summary>Calibrates the model of <paramref name="folder"/> and returns each target's FP4 linear by weight name.</summary>
    public static async Task<IReadOnlyDictionary<string, Fp4Linear>> QuantizeAsync(IDatasetText datasets, PipelineContext context,
        ModelFolder folder, LinearPlan plan, Fp4Options options, CancellationToken cancellationToken)
    {
        using var inputs = await CalibrationInputs.LoadAsync(datasets, context, folder, options.CalibrationSamples, options.SeqLen, "FP4",
            cancellationToken, " (GPTQ rounding)");
        var (model, windows) = (inputs.Model, inputs.Windows);
        var gptq = new GptqOptions
        {
            GroupSize = options.GroupSize, ActOrder = options.ActOrder, StaticGroups = true, DampPercent = options.DampPercent,
        };
        using var observer = new GptqObserver<Fp4Linear>(gptq, new Fp4GptqRounding(Fp4Spec.From(options)),
            plan.Targets.Select(t => t.WeightName).ToHashSet(StringComparer.Ordinal), Fp4Checkpoint.Add, Fp4Checkpoint.Read);
        var settings = new CalibrationSettings(TrueSequential: gptq.TrueSequential, TwoStreams: false, Checkpoint: context.Checkpoint);
        var layers = model.Model.Layers.Count;
        await Task.Run(() => LayerwiseCalibrator.Run(model, windows, settings, observer, index =>
            context.Progress.ReportAsync("quantize", 0.05 + 0.8 * (index + 1) / layers, $"layer {index}", cancellationToken)
                .GetAwaiter().GetResult(), cancellationToken), cancellationToken);
        return observer.Packed;
    }

    public IColumnQuantizer QuantizerFor(Tensor weight) => new Fp4ColumnQuantizer(weight, spec);

    public (Fp4Linear Packed, Tensor Stored) Pack(GptqSolution solution, Tensor weight, IColumnQuantizer quantizer)
    {
        var fp4 = (Fp4ColumnQuantizer)quantizer;
        var rows = (int)weight.shape[0];
        var columns = (int)weight.shape[1];
        var groups = solution.Grids.Count;
        var groupScales = new float[rows * groups];
        for (var g = 0; g < groups; g++)
        {
            var grid = (Fp4ColumnQuantizer.Grid)solution.Grids[g];
            for (var r = 0; r < rows; r++)
            {
                groupScales[r * groups + g] = grid.GroupScales[r];
            }
        }
        var linear = Fp4Linear.Encode(Floats(weight), Floats(solution.Quantized), groupScales, fp4.RowScales, rows, columns, spec);
        return (linear, torch.tensor(linear.Dequantize(), [rows, columns], ScalarType.Float32));
    }

    private static float[] Floats(Tensor tensor)
    {
        using var scope = torch.NewDisposeScope();
        return tensor.detach().to(ScalarType.Float32).contiguous().data<float>().ToArray();
    }
}
