using System.Diagnostics.CodeAnalysis;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Gptq;

/// <summary>
/// Reads a GPTQ-packed linear (<c>qweight</c>/<c>qzeros</c>/<c>scales</c>/<c>g_idx</c>, docs/formats/gptq-packing.md)
/// back as a dense float32 <c>[out, in]</c> weight, so quantized outputs can be evaluated and re-optimized.
/// </summary>
public sealed class GptqPackedWeightReader : IPackedWeightReader
{
    public bool TryRead(ModelFolder folder, string weightName, [MaybeNullWhen(false)] out Tensor weight)
    {
        weight = null;
        if (!weightName.EndsWith(".weight", StringComparison.Ordinal)
            || folder.Config.QuantizationConfig is not { } quantization
            || quantization["quant_method"]?.GetValue<string>() != "gptq")
        {
            return false;
        }
        var prefix = weightName[..^".weight".Length];
        string[] parts = [prefix + ".qweight", prefix + ".qzeros", prefix + ".scales", prefix + ".g_idx"];
        if (!parts.All(folder.ContainsTensor))
        {
            return false;
        }
        var bits = quantization["bits"]?.GetValue<int>() ?? throw new InvalidDataException("quantization_config has no bits.");
        var groupSize = quantization["group_size"]?.GetValue<int>() ?? -1;
        var linear = Read(folder, prefix, bits, groupSize);
        var dense = new float[(long)linear.OutFeatures * linear.InFeatures];
        linear.Dequantize(dense);
        weight = torch.tensor(dense, [linear.OutFeatures, linear.InFeatures], ScalarType.Float32);
        return true;
    }

    /// <summary>The packed tensors of one linear, checked against each other's shapes.</summary>
    public static GptqLinear Read(ModelFolder folder, string prefix, int bits, int groupSize)
    {
        var qweightEntry = folder.GetEntry(prefix + ".qweight");
        var scalesEntry = folder.GetEntry(prefix + ".scales");
        var gIdxEntry = folder.GetEntry(prefix + ".g_idx");
        var qzerosEntry = folder.GetEntry(prefix + ".qzeros");
        if (qweightEntry.Dtype != SafetensorsDtype.I32 || qweightEntry.Shape.Length != 2
            || scalesEntry.Dtype != SafetensorsDtype.F16 || scalesEntry.Shape.Length != 2
            || gIdxEntry.Dtype != SafetensorsDtype.I32 || qzerosEntry.Dtype != SafetensorsDtype.I32)
        {
            throw new InvalidDataException($"{prefix}: GPTQ tensors must be qweight I32 2-D, qzeros I32, scales F16 2-D, g_idx I32.");
        }
        var outFeatures = (int)qweightEntry.Shape[1];
        var inFeatures = (int)(qweightEntry.Shape[0] * 32 / bits);
        if (gIdxEntry.ElementCount != inFeatures || scalesEntry.Shape[1] != outFeatures
            || qzerosEntry.ElementCount != scalesEntry.Shape[0] * GptqPacking.PackedLength(outFeatures, bits))
        {
            throw new InvalidDataException($"{prefix}: GPTQ tensor shapes disagree (in {inFeatures}, out {outFeatures}, {bits} bits).");
        }
        return new GptqLinear(outFeatures, inFeatures, bits, groupSize,
            WeightBytes.ToInt32(folder.GetTensorBytes(prefix + ".qweight")),
            WeightBytes.ToInt32(folder.GetTensorBytes(prefix + ".qzeros")),
            WeightBytes.ToHalf(folder.GetTensorBytes(prefix + ".scales")),
            WeightBytes.ToInt32(folder.GetTensorBytes(prefix + ".g_idx")));
    }
}
