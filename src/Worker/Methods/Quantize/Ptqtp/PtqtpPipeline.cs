using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Quantize.Ptqtp;
using Optimizer.Domain.Models;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Ptqtp;

/// <summary>
/// PTQTP (ALGORITHMS.md 1.7): two ternary trit-planes per weight with group-wise float16 scales, packed five trits a byte
/// (docs/formats/trit-planes.md). Weight-only and streamed tensor by tensor.
/// </summary>
/// <remarks>
/// <see cref="QuantizationInfo.Bits"/> is 2 (two planes of ternary digits); the stored size is 2 × 1.6 bits per weight
/// plus 32 bits of scales per group, reported as <c>bits_per_weight</c>.
/// </remarks>
[JobPipeline("quantize", "ptqtp")]
public sealed class PtqtpPipeline : IJobPipeline<PtqtpOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, PtqtpOptions options, CancellationToken cancellationToken)
    {
        var source = context.Source;
        using var opened = await QuantizedCheckpoint.OpenAsync(context, "PTQTP", (_, inFeatures) => TritPlaneQuantizer.Supports(inFeatures, options.GroupSize),
            $"trit-plane groups of {options.GroupSize}", cancellationToken,
            plan => $"Fitting two trit-planes for {plan.Targets.Count} linear layers, group size {options.GroupSize}, up to {options.MaxIters} iterations.");
        var (folder, plan) = (opened.Folder, opened.Plan);

        var fit = new TritPlaneFitOptions(options.MaxIters, options.Tolerance, options.RidgeLambda);
        var parts = new LayerParts<PtqtpLinear>(PackedCheckpoint.PerLinear(context.Checkpoint, PtqtpCheckpoint.Codec, target => PtqtpLinear.Quantize(
                WeightBytes.ToFloat32(folder.GetTensorBytes(target.WeightName), target.Dtype), target.OutFeatures, target.InFeatures,
                options.GroupSize, fit), cancellationToken),
            3, QuantizedCheckpoint.ProgressCallback(context, plan.Targets.Count, cancellationToken));
        var writer = new SafetensorsWriter();
        writer.Metadata["quantized_by"] = "optimizer/ptqtp";
        PackedLayout.AddKept(writer, folder, plan);
        foreach (var target in plan.Targets)
        {
            var (outF, inF) = (target.OutFeatures, target.InFeatures);
            long[] planeShape = [outF, TritPacking.PackedLength(inF)];
            writer.AddBytes(target.Prefix + PtqtpNames.Plane1, SafetensorsDtype.U8, planeShape, () => parts.Take(target).Plane1);
            writer.AddBytes(target.Prefix + PtqtpNames.Plane2, SafetensorsDtype.U8, planeShape, () => parts.Take(target).Plane2);
            writer.AddBytes(target.Prefix + PtqtpNames.Alpha, SafetensorsDtype.F16, [outF, TritPlaneQuantizer.GroupCount(inF, options.GroupSize), 2],
                () => TensorBytes.Half(parts.Take(target).Alphas));
            writer.Add(target.Prefix + PtqtpNames.Shape, SafetensorsDtype.I32, [2], MemoryMarshal.AsBytes(new[] { outF, inF }.AsSpan()).ToArray());
        }
        await Task.Run(() => writer.Save(Path.Combine(context.OutputDir, ModelFolder.SingleFileName)), cancellationToken);

        QuantizedCheckpoint.WriteConfig(folder, context.OutputDir, new JsonObject
        {
            ["quant_method"] = "ptqtp",
            ["planes"] = 2,
            ["group_size"] = options.GroupSize,
            ["trit_packing"] = "base3_5_per_byte",
            ["max_iters"] = options.MaxIters,
            ["ridge_lambda"] = options.RidgeLambda,
        });
        ModelFiles.CopySideFiles(source.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("quantize", 0.9, "Written", cancellationToken);

        var info = QuantizedCheckpoint.Describe(folder, source, $"ptqtp-g{options.GroupSize}",
            new QuantizationInfo("ptqtp", 2, options.GroupSize, "trit_planes"));
        return PipelineResult.ForModel(info, new Dictionary<string, object?>
        {
            ["quantized_layers"] = plan.Targets.Count,
            ["skipped_layers"] = plan.Skipped.Count,
            ["bits_per_weight"] = Math.Round(StoredBits.PerWeight(context.OutputDir, plan.Targets), 4),
        });
    }
}
