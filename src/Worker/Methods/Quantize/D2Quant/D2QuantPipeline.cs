using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Quantize.D2Quant;
using Optimizer.Domain.Methods.Quantize.Gptq;
using Optimizer.Domain.Models;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Gptq;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.D2Quant;

/// <summary>
/// D²Quant (ALGORITHMS.md 1.9): calibrate layer by layer with two streams; per block fold the searched dual scale of
/// <c>down_proj</c> into <c>up_proj</c>, quantize every linear with GPTQ, and correct the block's mean output shift with a
/// <c>down_proj</c> bias. Written as a GPTQ checkpoint (docs/formats/gptq-packing.md) plus float32
/// <c>mlp.down_proj.bias</c> tensors, which the Llama module loads when present.
/// </summary>
/// <remarks>
/// Interpretation (the paper's code is unreleased): the dual scale is searched as <c>c = s_x^β</c> over a β grid, scoring
/// each candidate by the Hessian-weighted output error of plain group rounding; rounding itself is GPTQ's
/// (act-order, 1 % dampening). One stage per block: the up_proj fold must happen before up_proj is quantized.
/// </remarks>
[JobPipeline("quantize", "d2quant")]
public sealed class D2QuantPipeline(IDatasetText datasets) : IJobPipeline<D2QuantOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, D2QuantOptions options, CancellationToken cancellationToken)
    {
        var source = context.Source;
        var spec = new RtnSpec(options.Bits, options.GroupSize, Symmetric: false);
        using var folder = QuantizedCheckpoint.OpenFloatSource(source.LocalDir, "D²Quant");
        var plan = await QuantizedCheckpoint.PlanAsync(context, folder, (o, i) => GptqLinear.Supports(o, i, spec),
            $"{options.Bits} bits with group size {options.GroupSize}", cancellationToken);
        using var inputs = await CalibrationInputs.LoadAsync(datasets, context, folder, options.CalibrationSamples, options.SeqLen, "D²Quant",
            cancellationToken, $" (dual scale {(options.DualScale ? "on" : "off")}, deviation correction {(options.DeviationCorrection ? "on" : "off")})");
        var (model, windows) = (inputs.Model, inputs.Windows);

        var gptqOptions = new GptqOptions
        {
            Bits = options.Bits, GroupSize = options.GroupSize, DampPercent = options.DampPercent, TrueSequential = false,
        };
        using var gptq = new GptqObserver(gptqOptions, spec, plan.Targets.Select(t => t.WeightName).ToHashSet(StringComparer.Ordinal));
        var observer = new D2QuantObserver(options, gptq);
        var settings = new CalibrationSettings(TrueSequential: false, TwoStreams: options.DeviationCorrection, Checkpoint: context.Checkpoint);
        var layers = model.Model.Layers.Count;
        await Task.Run(() => LayerwiseCalibrator.Run(model, windows, settings, observer, index =>
            context.Progress.ReportAsync("quantize", 0.05 + 0.8 * (index + 1) / layers, $"layer {index}", cancellationToken)
                .GetAwaiter().GetResult(), cancellationToken), cancellationToken);

        var writer = new SafetensorsWriter();
        writer.Metadata["quantized_by"] = "optimizer/d2quant";
        // A source down_proj bias is replaced by the corrected one (which already includes it).
        PackedLayout.AddKept(writer, folder, plan with { Kept = [.. plan.Kept.Where(n => !(n.EndsWith(".bias", StringComparison.Ordinal) && observer.Biases.ContainsKey(n[..^".bias".Length])))] });
        foreach (var target in plan.Targets)
        {
            PackedTensors.AddGptq(writer, target.Prefix, gptq.Packed[target.WeightName]);
        }
        foreach (var (prefix, bias) in observer.Biases)
        {
            writer.Add(prefix + ".bias", SafetensorsDtype.F32, [bias.Length], MemoryMarshal.AsBytes(bias.AsSpan()).ToArray());
        }
        await Task.Run(() => writer.Save(Path.Combine(context.OutputDir, ModelFolder.SingleFileName)), cancellationToken);

        QuantizedCheckpoint.WriteConfig(folder, context.OutputDir, new JsonObject
        {
            ["quant_method"] = "gptq",
            ["bits"] = options.Bits,
            ["group_size"] = options.GroupSize,
            ["desc_act"] = gptqOptions.ActOrder,
            ["sym"] = false,
            ["static_groups"] = false,
            ["true_sequential"] = false,
            ["damp_percent"] = options.DampPercent,
            ["checkpoint_format"] = "gptq",
            ["d2quant"] = new JsonObject
            {
                ["dual_scale"] = options.DualScale,
                ["grid"] = options.Grid,
                ["deviation_correction"] = options.DeviationCorrection,
                ["down_proj_bias"] = observer.Biases.Count > 0,
            },
        });
        ModelFiles.CopySideFiles(source.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("quantize", 0.9, "Written", cancellationToken);

        var info = QuantizedCheckpoint.Describe(folder, source, $"d2quant-w{options.Bits}g{options.GroupSize}",
            new QuantizationInfo("d2quant", options.Bits, options.GroupSize, "gptq"));
        return PipelineResult.ForModel(info, new Dictionary<string, object?>
        {
            ["quantized_layers"] = plan.Targets.Count,
            ["skipped_layers"] = plan.Skipped.Count,
            ["calibration_windows"] = windows.shape[0],
            ["gptq_loss"] = gptq.Loss,
            ["mean_deviation_corrected"] = observer.Deviations.Count > 0 ? observer.Deviations.Average() : null,
            ["bits_per_weight"] = Math.Round(StoredBits.PerWeight(context.OutputDir, plan.Targets), 4),
        });
    }
}
