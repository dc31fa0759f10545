using System.Text.Json.Nodes;
using Optimizer.Domain.Formats.BitStack;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Quantize.BitStack;
using Optimizer.Domain.Models;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.BitStack;

/// <summary>
/// BitStack (ALGORITHMS.md 1.8): every decoder linear becomes a stack of sign + rank-k residual blocks, ordered by
/// importance in <c>bitstack.json</c> so the model loads to any memory budget (docs/formats/bitstack.md).
/// </summary>
/// <remarks>
/// Two passes over the weights: the first decomposes each linear to learn its per-block errors (for the order), keeping
/// only those; the second decomposes again while the writer streams (deterministic), so the blocks of the whole model
/// are never in memory at once. In a job, each decomposition is a checkpoint key: the second pass and a resumed attempt
/// read it back instead of decomposing again. Differences from the paper: no activation-aware column scaling (step 0, needs calibration)
/// and a reconstruction-gain proxy for the perplexity-based order (<see cref="BitStackOrdering"/>). The model record says
/// 1 bit (each block's sign plane) and group size -1; the stored size is in <c>bits_per_weight</c>.
/// </remarks>
[JobPipeline("quantize", "bitstack")]
public sealed class BitStackPipeline : IJobPipeline<BitStackOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, BitStackOptions options, CancellationToken cancellationToken)
    {
        var source = context.Source;
        using var opened = await QuantizedCheckpoint.OpenAsync(context, "BitStack", null, "BitStack blocks", cancellationToken,
            plan => $"Decomposing {plan.Targets.Count} linear layers into {options.Blocks} sign + rank-{options.Rank} blocks.");
        var (folder, plan) = (opened.Folder, opened.Plan);

        // With a checkpoint, the first pass saves each decomposition and the second reads it back instead of decomposing again.
        var decompose = PackedCheckpoint.PerLinear(context.Checkpoint, BitStackCheckpoint.Codec, target => BitStackDecomposition.Decompose(
            WeightBytes.ToFloat32(folder.GetTensorBytes(target.WeightName), target.Dtype), target.OutFeatures, target.InFeatures,
            options.Blocks, options.Rank, roundToHalf: true), cancellationToken);

        var errors = new List<IReadOnlyList<double>>();
        foreach (var target in plan.Targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            errors.Add(await Task.Run(() => decompose(target).SquaredErrors, cancellationToken));
            await context.Progress.ReportAsync("order", 0.05 * errors.Count / plan.Targets.Count, target.WeightName, cancellationToken);
        }
        var manifest = new BitStackManifest
        {
            Blocks = options.Blocks,
            Rank = options.Rank,
            FixedBytes = plan.Kept.Sum(n => folder.GetEntry(n).ByteLength),
            Linears = [.. plan.Targets.Select(t => new BitStackLinear(t.Prefix, t.OutFeatures, t.InFeatures,
                BitStackNames.BlockBytes(t.OutFeatures, t.InFeatures, Math.Min(options.Rank, Math.Min(t.OutFeatures, t.InFeatures)))))],
            Order = BitStackOrdering.Order(errors, options.Blocks),
        };

        var writer = new SafetensorsWriter();
        writer.Metadata["quantized_by"] = "optimizer/bitstack";
        PackedLayout.AddKept(writer, folder, plan);
        var progress = QuantizedCheckpoint.ProgressCallback(context, plan.Targets.Count, cancellationToken);
        var parts = new LayerParts<BitStackDecomposition>(decompose, 3 * options.Blocks, progress);
        foreach (var target in plan.Targets)
        {
            AddBlocks(writer, parts, target, options);
        }
        await Task.Run(() => writer.Save(Path.Combine(context.OutputDir, ModelFolder.SingleFileName)), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(context.OutputDir, BitStackManifest.FileName), manifest.ToJson(), cancellationToken);

        QuantizedCheckpoint.WriteConfig(folder, context.OutputDir, new JsonObject
        {
            ["quant_method"] = "bitstack",
            ["blocks"] = options.Blocks,
            ["rank"] = options.Rank,
            ["manifest"] = BitStackManifest.FileName,
        });
        ModelFiles.CopySideFiles(source.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("quantize", 0.9, "Written", cancellationToken);

        var info = QuantizedCheckpoint.Describe(folder, source, $"bitstack-n{options.Blocks}k{options.Rank}",
            new QuantizationInfo("bitstack", 1, -1, "bitstack"));
        return PipelineResult.ForModel(info, new Dictionary<string, object?>
        {
            ["quantized_layers"] = plan.Targets.Count,
            ["bits_per_weight"] = Math.Round(StoredBits.PerWeight(context.OutputDir, plan.Targets), 4),
            ["minimum_mb"] = Math.Round(manifest.MinimumBytes / BitStackManifest.BytesPerMb, 3),
            ["full_mb"] = Math.Round(manifest.FullBytes / BitStackManifest.BytesPerMb, 3),
        });
    }

    private static void AddBlocks(SafetensorsWriter writer, LayerParts<BitStackDecomposition> parts, LinearTarget target, BitStackOptions options)
    {
        var (outF, inF) = (target.OutFeatures, target.InFeatures);
        var rank = Math.Min(options.Rank, Math.Min(outF, inF));
        for (var i = 0; i < options.Blocks; i++)
        {
            var block = i;
            writer.AddBytes(BitStackNames.Sign(target.Prefix, i), SafetensorsDtype.U8, [((long)outF * inF + 7) / 8],
                () => parts.Take(target).Blocks[block].Signs);
            writer.AddBytes(BitStackNames.U(target.Prefix, i), SafetensorsDtype.F16, [outF, rank],
                () => TensorBytes.Half(parts.Take(target).Blocks[block].U));
            writer.AddBytes(BitStackNames.V(target.Prefix, i), SafetensorsDtype.F16, [rank, inF],
                () => TensorBytes.Half(parts.Take(target).Blocks[block].V));
        }
    }
}
