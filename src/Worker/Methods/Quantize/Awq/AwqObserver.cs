using System.Globalization;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Awq;

/// <summary>
/// AWQ on the layer-by-layer loop (full-precision propagation, as <c>inps = layer(inps)</c> runs first in the reference):
/// per block, search every group's scales on the unmodified block, fold them, search clipping ranges on the scaled
/// weights and inputs, then round every target linear and keep its packed form.
/// </summary>
internal sealed class AwqObserver(AwqQuantizer quantizer, int grid, bool clip, IReadOnlySet<string> targets)
    : ICalibrationObserver, ICheckpointedObserver
{
    private static readonly BlockInput[] Groups = [BlockInput.Attention, BlockInput.AttentionOutput, BlockInput.Mlp, BlockInput.MlpHidden];

    /// <summary>Packed linears by weight name: <see cref="AwqLinear"/> at 4 bits, <see cref="GptqLinear"/> otherwise.</summary>
    public Dictionary<string, object> Packed { get; } = new(StringComparer.Ordinal);

    /// <summary>Model parameters the scales or clips changed (norms, previous linears): written from the model.</summary>
    public HashSet<string> Modified { get; } = new(StringComparer.Ordinal);

    /// <summary>Groups whose scales were folded, and groups skipped (v → o under grouped-query attention).</summary>
    public int Folded { get; private set; }
    public int NotFoldable { get; private set; }

    public void Observe(CalibrationBlock block, BlockLinear linear, Tensor input, Tensor? fullPrecisionInput)
    {
        // AWQ reads the block inputs directly (CaptureInputs is off).
    }

    public void Update(CalibrationBlock block, IReadOnlyList<BlockLinear> stage)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var layer = block.Layer;
        var inputs = block.Inputs.Select(h => BlockInputs.Compute(layer, h, block.Cos, block.Sin, BlockInput.MlpHidden)).ToList();
        var scales = new Dictionary<BlockInput, Tensor>();
        foreach (var group in Groups)
        {
            if (!AwqScaling.CanFold(layer, group))
            {
                NotFoldable++;
                continue;
            }
            var (s, _) = AwqSearch.Scales(layer, group, inputs.Select(i => i[group]).ToList(), quantizer, grid, block.Cos, block.Sin);
            scales[group] = s.MoveToOuterDisposeScope();
        }
        foreach (var (group, s) in scales)
        {
            AwqScaling.Fold(layer, group, s);
            Modified.Add($"model.layers.{block.Index}.{AwqScaling.PreviousName(group)}.weight");
            foreach (var batch in inputs)
            {
                batch[group] = batch[group] / s;
            }
            Folded++;
        }
        foreach (var linear in stage)
        {
            var name = linear.WeightName(block.Index);
            Modified.Add(name);
            if (clip && linear.Name is not ("self_attn.q_proj" or "self_attn.k_proj"))
            {
                var x = torch.cat(inputs.Select(i => i[linear.Input].reshape(-1, i[linear.Input].shape[^1])).ToList(), 0);
                AwqSearch.Clip(linear.Module.weight!, x, quantizer);
            }
            if (targets.Contains(name))
            {
                Packed[name] = Pack(linear.Module.weight!);
                linear.Module.weight!.copy_(quantizer.Quantize(linear.Module.weight!));
            }
        }
    }

    public void SaveBlock(int index, SafetensorsWriter tensors)
    {
        PackedCheckpoint.AddBlock(tensors, Packed, index, (writer, prefix, linear) =>
        {
            if (linear is AwqLinear awq)
            {
                PackedCheckpoint.AddAwq(writer, prefix, awq);
            }
            else
            {
                PackedCheckpoint.AddGptq(writer, prefix, (GptqLinear)linear);
            }
        });
        var block = $"model.layers.{index}.";
        tensors.Metadata[ModifiedKey] = string.Join(',', Modified.Where(n => n.StartsWith(block, StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        tensors.Metadata[CountsKey] = $"{Folded},{NotFoldable}";
    }

    public void RestoreBlock(int index, SafetensorsFile saved)
    {
        PackedCheckpoint.ReadBlock(saved, Packed, PackedCheckpoint.ReadPacked);
        Modified.UnionWith(saved.Metadata[ModifiedKey].Split(',', StringSplitOptions.RemoveEmptyEntries));
        var counts = saved.Metadata[CountsKey].Split(',');
        (Folded, NotFoldable) = (int.Parse(counts[0], CultureInfo.InvariantCulture), int.Parse(counts[1], CultureInfo.InvariantCulture));
    }

    private const string ModifiedKey = "awq_modified";
    private const string CountsKey = "awq_folded_not_foldable";

    private object Pack(Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        var rows = (int)weight.shape[0];
        var columns = (int)weight.shape[1];
        var (codes, scales, zeros) = quantizer.Encode(weight);
        var codeBytes = codes.to(ScalarType.Byte).contiguous().data<byte>().ToArray();
        var scaleValues = scales.contiguous().data<float>().ToArray();
        var zeroValues = zeros.to(ScalarType.Int32).contiguous().data<int>().ToArray();
        if (quantizer.Bits == AwqPacking.Bits)
        {
            return AwqLinear.Pack(codeBytes, scaleValues, zeroValues, rows, columns, quantizer.GroupSize);
        }
        var size = quantizer.GroupSize == -1 ? columns : quantizer.GroupSize;
        var gIdx = Enumerable.Range(0, columns).Select(i => i / size).ToArray();
        return GptqLinear.Pack(codeBytes, scaleValues, zeroValues, gIdx, rows, columns, new RtnSpec(quantizer.Bits, quantizer.GroupSize, false));
    }
}
