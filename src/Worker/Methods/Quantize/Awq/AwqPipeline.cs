using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.Quantize.Awq;
using Optimizer.Domain.Models;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;

namespace Optimizer.Worker.Methods.Quantize.Awq;

/// <summary>
/// AWQ (ALGORITHMS.md 1.5): calibrate layer by layer on the job's calibration dataset (default the built-in Moby-Dick
/// calibration chapters) with full-precision propagation, search and fold activation-aware scales, search clips, round;
/// 4-bit is written in AutoAWQ's GEMM packing (docs/formats/awq-packing.md), other widths in the GPTQ packing.
/// </summary>
/// <remarks>Needs a Llama-family causal LM (built once in float32). Folded norms are written in the source dtype.</remarks>
[JobPipeline("quantize", "awq")]
public sealed class AwqPipeline(IDatasetText datasets) : IJobPipeline<AwqOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, AwqOptions options, CancellationToken cancellationToken)
    {
        var source = context.Source;
        var awqPacking = options.Bits == AwqPacking.Bits;
        using var folder = QuantizedCheckpoint.OpenFloatSource(source.LocalDir, "AWQ");
        var plan = await QuantizedCheckpoint.PlanAsync(context, folder, (o, i) => awqPacking
                ? AwqLinear.Supports(o, i, options.GroupSize)
                : GptqLinear.Supports(o, i, new RtnSpec(options.Bits, options.GroupSize, false)),
            $"{options.Bits} bits with group size {options.GroupSize}", cancellationToken);

        using var inputs = await CalibrationInputs.LoadAsync(datasets, context, folder, options.CalibrationSamples, options.SeqLen, "AWQ",
            cancellationToken);
        var (model, windows) = (inputs.Model, inputs.Windows);

        var observer = new AwqObserver(new AwqQuantizer(options.Bits, options.GroupSize), options.Grid, options.ClipSearch,
            plan.Targets.Select(t => t.WeightName).ToHashSet(StringComparer.Ordinal));
        var settings = new CalibrationSettings(Propagation: Propagation.FullPrecision, CaptureInputs: false, Checkpoint: context.Checkpoint);
        var layers = model.Model.Layers.Count;
        await Task.Run(() => LayerwiseCalibrator.Run(model, windows, settings, observer, index =>
            context.Progress.ReportAsync("quantize", 0.05 + 0.8 * (index + 1) / layers, $"layer {index}", cancellationToken)
                .GetAwaiter().GetResult(), cancellationToken), cancellationToken);
        if (observer.NotFoldable > 0)
        {
            await context.Progress.EventAsync("info", "scale",
                $"{observer.NotFoldable} v_proj → o_proj scale group(s) skipped: grouped-query attention repeats v_proj's outputs.", null, cancellationToken);
        }

        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var writer = new SafetensorsWriter();
        writer.Metadata["quantized_by"] = "optimizer/awq";
        foreach (var name in plan.Kept)
        {
            var entry = folder.GetEntry(name);
            writer.Add(name, entry.Dtype, entry.Shape, observer.Modified.Contains(name)
                ? () => parameters[name].detach().to(entry.Dtype.ToTorch()).clone()
                : () => folder.ReadTensor(name));
        }
        foreach (var target in plan.Targets)
        {
            switch (observer.Packed[target.WeightName])
            {
                case AwqLinear awq:
                    AwqTensors.Add(writer, target.Prefix, awq);
                    break;
                case GptqLinear gptq:
                    PackedTensors.AddGptq(writer, target.Prefix, gptq);
                    break;
            }
        }
        await Task.Run(() => writer.Save(Path.Combine(context.OutputDir, ModelFolder.SingleFileName)), cancellationToken);

        QuantizedCheckpoint.WriteConfig(folder, context.OutputDir, awqPacking
            ? new JsonObject
            {
                ["quant_method"] = "awq",
                ["bits"] = options.Bits,
                ["group_size"] = options.GroupSize,
                ["zero_point"] = true,
                ["version"] = "gemm",
            }
            : new JsonObject
            {
                ["quant_method"] = "gptq",
                ["bits"] = options.Bits,
                ["group_size"] = options.GroupSize,
                ["desc_act"] = false,
                ["sym"] = false,
                ["checkpoint_format"] = "gptq",
                ["quantized_with"] = "awq",
            });
        ModelFiles.CopySideFiles(source.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("quantize", 0.9, "Written", cancellationToken);

        var info = QuantizedCheckpoint.Describe(folder, source, $"awq-w{options.Bits}g{options.GroupSize}",
            new QuantizationInfo("awq", options.Bits, options.GroupSize, awqPacking ? "awq" : "gptq"));
        return PipelineResult.ForModel(info, new Dictionary<string, object?>
        {
            ["quantized_layers"] = plan.Targets.Count,
            ["skipped_layers"] = plan.Skipped.Count,
            ["calibration_windows"] = windows.shape[0],
            ["scale_groups_folded"] = observer.Folded,
        });
    }
}
