using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Domain.Models;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Fp4;

/// <summary>
/// FP4 E2M1 group-wise weight quantization (ALGORITHMS.md 1.6, ZeroQuant-FP) with M1/M2 scale constraints and optional
/// LoRC, written as packed nibbles plus scales (docs/formats/fp4.md). With RTN rounding it streams tensor by tensor and never builds the model.
/// </summary>
/// <remarks>
/// Rounding is RTN, or GPTQ's (<c>rounding: gptq</c>, <see cref="Fp4GptqRounding"/>): that one builds the model and
/// calibrates it layer by layer on <paramref name="datasets"/>' text before the same writer runs.
/// </remarks>
[JobPipeline("quantize", "fp4")]
public sealed class Fp4Pipeline(IDatasetText datasets) : IJobPipeline<Fp4Options>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, Fp4Options options, CancellationToken cancellationToken)
    {
        var source = context.Source;
        var spec = Fp4Spec.From(options);
        using var opened = await QuantizedCheckpoint.OpenAsync(context, "FP4", (_, inFeatures) => Fp4Quantizer.Supports(inFeatures, options.GroupSize),
            $"FP4 E2M1 groups of {options.GroupSize}", cancellationToken,
            plan => $"Quantizing {plan.Targets.Count} linear layers to FP4 E2M1, group size {options.GroupSize}, scales {options.ScaleConstraint}" +
                (options.LorcRank > 0 ? $", LoRC rank {options.LorcRank}" : "") + $", {options.Rounding} rounding.");
        var (folder, plan) = (opened.Folder, opened.Plan);

        var writer = new SafetensorsWriter();
        writer.Metadata["quantized_by"] = "optimizer/fp4";
        var rounded = options.Rounding == Fp4Options.GptqRounding
            ? await Fp4GptqRounding.QuantizeAsync(datasets, context, folder, plan, options, cancellationToken)
            : null;
        var layers = new Fp4LayerSource(folder, spec, QuantizedCheckpoint.ProgressCallback(context, plan.Targets.Count, cancellationToken),
            context.Checkpoint, cancellationToken, rounded);
        PackedLayout.AddKept(writer, folder, plan);
        foreach (var target in plan.Targets)
        {
            layers.AddTo(writer, target);
        }
        await Task.Run(() => writer.Save(Path.Combine(context.OutputDir, ModelFolder.SingleFileName)), cancellationToken);

        QuantizedCheckpoint.WriteConfig(folder, context.OutputDir, new JsonObject
        {
            ["quant_method"] = "fp4",
            ["fmt"] = "e2m1",
            ["group_size"] = options.GroupSize,
            ["scale_constraint"] = options.ScaleConstraint,
            ["scale_dtype"] = spec.Pow2Scales ? "e8m0" : "float16",
            ["lorc_rank"] = options.LorcRank,
            ["rounding"] = options.Rounding,
            ["activation_scheme"] = options.Activations == "none" ? "none" : "dynamic",
            ["activation_dtype"] = options.Activations == "none" ? null : options.Activations,
            ["ignored_layers"] = new JsonArray([.. plan.Skipped.Select(n => JsonValue.Create(n[..^".weight".Length]))]),
        });
        ModelFiles.CopySideFiles(source.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("quantize", 0.9, "Written", cancellationToken);

        var suffix = $"fp4-g{options.GroupSize}-{options.ScaleConstraint}" + (options.LorcRank > 0 ? $"-lorc{options.LorcRank}" : "")
            + (rounded is null ? "" : "-gptq");
        var info = QuantizedCheckpoint.Describe(folder, source, suffix, new QuantizationInfo("fp4", 4, options.GroupSize, "fp4_e2m1"));
        return PipelineResult.ForModel(info, new Dictionary<string, object?>
        {
            ["quantized_layers"] = plan.Targets.Count,
            ["skipped_layers"] = plan.Skipped.Count,
            ["bits_per_weight"] = Math.Round(StoredBits.PerWeight(context.OutputDir, plan.Targets), 4),
        });
    }
}
