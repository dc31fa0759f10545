using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Domain.Models;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Rtn;

/// <summary>
/// Round-to-nearest weight-only quantization (ALGORITHMS.md 1.1) written as a GPTQ checkpoint
/// (docs/formats/gptq-packing.md). Streams tensor by tensor; the model is never built.
/// </summary>
[JobPipeline("quantize", "rtn")]
public sealed class RtnPipeline : IJobPipeline<RtnOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, RtnOptions options, CancellationToken cancellationToken)
    {
        var source = context.Source;
        var spec = new RtnSpec(options.Bits, options.GroupSize, options.Symmetric);
        using var opened = await QuantizedCheckpoint.OpenAsync(context, "RTN", (outFeatures, inFeatures) => GptqLinear.Supports(outFeatures, inFeatures, spec),
            $"{options.Bits} bits with group size {options.GroupSize}", cancellationToken);
        var (folder, plan) = (opened.Folder, opened.Plan);

        var writer = new SafetensorsWriter();
        writer.Metadata["quantized_by"] = "optimizer/rtn";
        var layers = new RtnLayerSource(folder, spec, QuantizedCheckpoint.ProgressCallback(context, plan.Targets.Count, cancellationToken),
            context.Checkpoint, cancellationToken);
        foreach (var name in plan.Kept)
        {
            var entry = folder.GetEntry(name);
            writer.Add(name, entry.Dtype, entry.Shape, () => folder.ReadTensor(name));
        }
        foreach (var target in plan.Targets)
        {
            // Biases are ordinary tensors and already in plan.Kept.
            layers.AddTo(writer, target);
        }
        var modelPath = Path.Combine(context.OutputDir, ModelFolder.SingleFileName);
        await Task.Run(() => writer.Save(modelPath), cancellationToken);

        QuantizedCheckpoint.WriteConfig(folder, context.OutputDir, new JsonObject
        {
            ["quant_method"] = "gptq",
            ["bits"] = options.Bits,
            ["group_size"] = options.GroupSize,
            ["desc_act"] = false,
            ["sym"] = options.Symmetric,
            ["checkpoint_format"] = "gptq",
        });
        ModelFiles.CopySideFiles(source.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("quantize", 0.9, "Written", cancellationToken);

        var info = QuantizedCheckpoint.Describe(folder, source, $"rtn-w{options.Bits}g{options.GroupSize}",
            new QuantizationInfo("rtn", options.Bits, options.GroupSize, "gptq"));
        return PipelineResult.ForModel(info, new Dictionary<string, object?>
        {
            ["quantized_layers"] = plan.Targets.Count,
            ["skipped_layers"] = plan.Skipped.Count,
        });
    }
}
