using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.Quantize.Gptq;
using Optimizer.Domain.Models;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Gptq;

/// <summary>
/// GPTQ (ALGORITHMS.md 1.2–1.4): calibrate layer by layer on the job's calibration dataset (default the built-in
/// Moby-Dick calibration chapters), solve each decoder linear against its Hessian, feed the quantized block forward, and
/// write a GPTQ checkpoint (docs/formats/gptq-packing.md) with <c>g_idx</c> and <c>quantization_config</c>.
/// </summary>
/// <remarks>Needs a Llama-family causal LM (built once in float32); GPTAQ / ResComp also keep a float copy of one block.</remarks>
[JobPipeline("quantize", "gptq")]
public sealed class GptqPipeline(IDatasetText datasets) : IJobPipeline<GptqOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, GptqOptions options, CancellationToken cancellationToken)
    {
        var source = context.Source;
        var spec = new RtnSpec(options.Bits, options.GroupSize, options.Symmetric);
        using var folder = QuantizedCheckpoint.OpenFloatSource(source.LocalDir, "GPTQ");
        var plan = await QuantizedCheckpoint.PlanAsync(context, folder, (o, i) => GptqLinear.Supports(o, i, spec),
            $"{options.Bits} bits with group size {options.GroupSize}", cancellationToken);

        using var inputs = await CalibrationInputs.LoadAsync(datasets, context, folder, options.CalibrationSamples, options.SeqLen, "GPTQ",
            cancellationToken, $" (correction {options.Correction})");
        var (model, windows) = (inputs.Model, inputs.Windows);

        using var observer = new GptqObserver(options, spec, plan.Targets.Select(t => t.WeightName).ToHashSet(StringComparer.Ordinal));
        var settings = new CalibrationSettings(TrueSequential: options.TrueSequential, TwoStreams: observer.Corrects,
            Checkpoint: context.Checkpoint);
        var layers = model.Model.Layers.Count;
        await Task.Run(() => LayerwiseCalibrator.Run(model, windows, settings, observer, index =>
            context.Progress.ReportAsync("quantize", 0.05 + 0.8 * (index + 1) / layers, $"layer {index}", cancellationToken)
                .GetAwaiter().GetResult(), cancellationToken), cancellationToken);

        var writer = new SafetensorsWriter();
        writer.Metadata["quantized_by"] = "optimizer/gptq";
        foreach (var name in plan.Kept)
        {
            var entry = folder.GetEntry(name);
            writer.Add(name, entry.Dtype, entry.Shape, () => folder.ReadTensor(name));
        }
        foreach (var target in plan.Targets)
        {
            PackedTensors.AddGptq(writer, target.Prefix, observer.Packed[target.WeightName]);
        }
        await Task.Run(() => writer.Save(Path.Combine(context.OutputDir, ModelFolder.SingleFileName)), cancellationToken);

        QuantizedCheckpoint.WriteConfig(folder, context.OutputDir, new JsonObject
        {
            ["quant_method"] = "gptq",
            ["bits"] = options.Bits,
            ["group_size"] = options.GroupSize,
            ["desc_act"] = options.ActOrder,
            ["sym"] = options.Symmetric,
            ["static_groups"] = options.StaticGroups,
            ["true_sequential"] = options.TrueSequential,
            ["damp_percent"] = options.DampPercent,
            ["checkpoint_format"] = "gptq",
            ["correction"] = options.Correction,
        });
        ModelFiles.CopySideFiles(source.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("quantize", 0.9, "Written", cancellationToken);

        var suffix = options.Correction == GptqOptions.NoCorrection ? "gptq" : options.Correction;
        var info = QuantizedCheckpoint.Describe(folder, source, $"{suffix}-w{options.Bits}g{options.GroupSize}",
            new QuantizationInfo("gptq", options.Bits, options.GroupSize, "gptq"));
        return PipelineResult.ForModel(info, new Dictionary<string, object?>
        {
            ["quantized_layers"] = plan.Targets.Count,
            ["skipped_layers"] = plan.Skipped.Count,
            ["calibration_windows"] = windows.shape[0],
            ["gptq_loss"] = observer.Loss,
        });
    }
}
