using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.Quantize.Fp8;
using Optimizer.Domain.Models;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Fp8;

/// <summary>
/// FP8 weight quantization (ALGORITHMS.md 1.6) written as safetensors F8 weights with float32 <c>weight_scale</c>
/// tensors (docs/formats/fp8.md). Streams tensor by tensor; the model is never built.
/// </summary>
/// <remarks>
/// <see cref="QuantizationInfo.GroupSize"/> follows the RTN convention: -1 for one scale per output channel, and 0
/// for one scale per tensor (no grouping at all).
/// </remarks>
[JobPipeline("quantize", "fp8")]
public sealed class Fp8Pipeline : IJobPipeline<Fp8Options>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, Fp8Options options, CancellationToken cancellationToken)
    {
        var source = context.Source;
        var spec = Fp8Spec.From(options);
        // Every shape fits (fits: null): the scale is per tensor or per row, never per group.
        using var opened = await QuantizedCheckpoint.OpenAsync(context, "FP8", null,
            $"FP8 {spec.FormatName}, one scale per {options.Granularity}", cancellationToken);
        var (folder, plan) = (opened.Folder, opened.Plan);

        var writer = new SafetensorsWriter();
        writer.Metadata["quantized_by"] = "optimizer/fp8";
        var layers = new Fp8LayerSource(folder, spec, QuantizedCheckpoint.ProgressCallback(context, plan.Targets.Count, cancellationToken),
            context.Checkpoint, cancellationToken);
        foreach (var name in plan.Kept)
        {
            var entry = folder.GetEntry(name);
            writer.Add(name, entry.Dtype, entry.Shape, () => folder.ReadTensor(name));
        }
        foreach (var target in plan.Targets)
        {
            layers.AddTo(writer, target);
        }
        var modelPath = Path.Combine(context.OutputDir, ModelFolder.SingleFileName);
        await Task.Run(() => writer.Save(modelPath), cancellationToken);

        QuantizedCheckpoint.WriteConfig(folder, context.OutputDir, QuantizationConfig(options, spec, plan));
        ModelFiles.CopySideFiles(source.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("quantize", 0.9, "Written", cancellationToken);

        var groupSize = spec.PerChannel ? -1 : 0;
        var info = QuantizedCheckpoint.Describe(folder, source, $"fp8-{spec.FormatName}-{options.Granularity}",
            new QuantizationInfo("fp8", 8, groupSize, "fp8_" + spec.FormatName));
        return PipelineResult.ForModel(info, new Dictionary<string, object?>
        {
            ["quantized_layers"] = plan.Targets.Count,
            ["skipped_layers"] = plan.Skipped.Count,
        });
    }

    /// <summary>vLLM's <c>fp8</c> config keys where they apply, plus ours for what it cannot express (docs/formats/fp8.md).</summary>
    private static JsonObject QuantizationConfig(Fp8Options options, Fp8Spec spec, LinearPlan plan)
    {
        // Linears left in their dtype, by module name (vLLM's ignored_layers): lm_head when untied, and any skipped layer.
        var ignored = new JsonArray();
        foreach (var name in plan.Kept.Where(n => n == "lm_head.weight").Concat(plan.Skipped))
        {
            ignored.Add(name[..^".weight".Length]);
        }
        return new JsonObject
        {
            ["quant_method"] = "fp8",
            ["fmt"] = spec.FormatName,
            ["weight_granularity"] = options.Granularity,
            ["weight_block_size"] = null,
            ["activation_scheme"] = options.Activations == "none" ? "none" : "dynamic",
            ["activation_dtype"] = options.Activations == "none" ? null : options.Activations,
            ["ignored_layers"] = ignored,
        };
    }
}
