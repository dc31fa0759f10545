using Optimizer.Domain.Methods.Quantize.D2Quant;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Methods.Quantize.Awq;
using Optimizer.Worker.Methods.Quantize.Gptq;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.D2Quant;

/// <summary>
/// D²Quant on the layer-by-layer loop (one stage per block, two streams): before a block is solved it measures the
/// full-precision block's mean output and folds the dual scale of <c>down_proj</c> into <c>up_proj</c> (rescaling the
/// accumulated Hessian to match); GPTQ then quantizes every linear; finally the deviation correction sets the
/// <c>down_proj</c> bias, which the loop's recomputed block output already includes.
/// </summary>
internal sealed class D2QuantObserver(D2QuantOptions options, GptqObserver gptq) : ICalibrationObserver, ICheckpointedObserver
{
    private readonly AwqQuantizer _proxy = new(options.Bits, options.GroupSize);

    /// <summary>The <c>down_proj</c> biases written by the correction, by module prefix (<c>model.layers.i.mlp.down_proj</c>).</summary>
    public Dictionary<string, float[]> Biases { get; } = new(StringComparer.Ordinal);

    /// <summary>Mean over blocks of the L2 norm of the corrected mean shift (what DAC removed).</summary>
    public List<double> Deviations { get; } = [];

    public void Observe(CalibrationBlock block, BlockLinear linear, Tensor input, Tensor? fullPrecisionInput) =>
        gptq.Observe(block, linear, input, fullPrecisionInput);

    public void Update(CalibrationBlock block, IReadOnlyList<BlockLinear> stage)
    {
        using var scope = torch.NewDisposeScope();
        var mlp = block.Layer.Mlp;
        // The block is still unmodified here: its output on the full-precision stream is the DAC target.
        var fullPrecisionMean = options.DeviationCorrection && block.FullPrecisionInputs is { } fp
            ? DeviationCorrection.MeanOutput(block.Layer, fp, block.Cos, block.Sin)
            : null;
        var down = stage.FirstOrDefault(l => l.Module == mlp.DownProj);
        if (options.DualScale && down is not null && stage.Any(l => l.Module == mlp.UpProj)
            && gptq.HessianOf(down.WeightName(block.Index)) is { } hessian)
        {
            var scale = DualScale.Search(mlp.DownProj.weight!, hessian, _proxy.Quantize, options.Grid);
            DualScale.Fold(mlp.UpProj, mlp.DownProj, scale);
            // down_proj's input is now diag(c)·x, so its Hessian becomes diag(c)·H·diag(c).
            using var noGrad = torch.no_grad();
            var c = scale.to(hessian.dtype);
            hessian.mul_(c.unsqueeze(0)).mul_(c.unsqueeze(1));
        }
        gptq.Update(block, stage);
        if (fullPrecisionMean is not null && down is not null)
        {
            var deviation = DeviationCorrection.Apply(block.Layer, fullPrecisionMean, block.Inputs, block.Cos, block.Sin);
            Deviations.Add(deviation.norm().item<double>());
            Biases[BiasPrefix(block.Index)] = mlp.DownProj.bias!.detach().cpu().to(ScalarType.Float32).data<float>().ToArray();
        }
    }

    /// <summary>GPTQ's results, and the block's corrected bias and deviation when the correction ran on it.</summary>
    public void SaveBlock(int index, SafetensorsWriter tensors)
    {
        gptq.SaveBlock(index, tensors);
        if (Biases.TryGetValue(BiasPrefix(index), out var bias))
        {
            tensors.AddArray(BiasKey, bias).AddArray(DeviationKey, new[] { Deviations[^1] });
        }
    }

    public void RestoreBlock(int index, SafetensorsFile saved)
    {
        gptq.RestoreBlock(index, saved);
        if (saved.Contains(BiasKey))
        {
            Biases[BiasPrefix(index)] = saved.ReadArray<float>(BiasKey);
            Deviations.Add(saved.ReadArray<double>(DeviationKey)[0]);
        }
    }

    private const string BiasKey = "d2quant.down_proj_bias";
    private const string DeviationKey = "d2quant.deviation";

    private static string BiasPrefix(int index) => $"model.layers.{index}.mlp.down_proj";
}
