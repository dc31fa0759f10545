using System.Diagnostics.CodeAnalysis;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Awq;

/// <summary>
/// Reads an AutoAWQ GEMM linear (<c>qweight</c>/<c>qzeros</c>/<c>scales</c>, docs/formats/awq-packing.md) back as a dense
/// float32 <c>[out, in]</c> weight, so AWQ outputs can be evaluated and re-optimized.
/// </summary>
public sealed class AwqPackedWeightReader : IPackedWeightReader
{
    public bool TryRead(ModelFolder folder, string weightName, [NotNullWhen(true)] out Tensor? weight)
    {
        weight = null;
        if (!weightName.EndsWith(".weight", StringComparison.Ordinal)
            || folder.Config.QuantizationConfig is not { } quantization
            || quantization["quant_method"]?.GetValue<string>() != "awq")
        {
            return false;
        }
        var prefix = weightName[..^".weight".Length];
        if (!folder.ContainsTensor(prefix + ".qweight") || !folder.ContainsTensor(prefix + ".qzeros") || !folder.ContainsTensor(prefix + ".scales"))
        {
            return false;
        }
        var bits = quantization["bits"]?.GetValue<int>() ?? AwqPacking.Bits;
        var version = quantization["version"]?.GetValue<string>() ?? "gemm";
        if (bits != AwqPacking.Bits || !string.Equals(version, "gemm", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"AWQ {version} with {bits} bits is not readable; only 4-bit GEMM is.");
        }
        var linear = Read(folder, prefix, quantization["group_size"]?.GetValue<int>() ?? -1);
        var dense = new float[(long)linear.OutFeatures * linear.InFeatures];
        linear.Dequantize(dense);
        weight = torch.tensor(dense, [linear.OutFeatures, linear.InFeatures], ScalarType.Float32);
        return true;
    }

    /// <summary>The packed tensors of one linear, checked against each other's shapes.</summary>
    public static AwqLinear Read(ModelFolder folder, string prefix, int groupSize)
    {
        var qweight = folder.GetEntry(prefix + ".qweight");
        var qzeros = folder.GetEntry(prefix + ".qzeros");
        var scales = folder.GetEntry(prefix + ".scales");
        if (qweight.Dtype != SafetensorsDtype.I32 || qweight.Shape.Length != 2 || qzeros.Dtype != SafetensorsDtype.I32
            || qzeros.Shape.Length != 2 || scales.Dtype != SafetensorsDtype.F16 || scales.Shape.Length != 2)
        {
            throw new InvalidDataException($"{prefix}: AWQ tensors must be qweight I32 2-D, qzeros I32 2-D, scales F16 2-D.");
        }
        var inFeatures = (int)qweight.Shape[0];
        var outFeatures = (int)scales.Shape[1];
        var groups = (int)scales.Shape[0];
        if (qweight.Shape[1] * AwqPacking.PerWord != outFeatures || qzeros.Shape[0] != groups || qzeros.Shape[1] != qweight.Shape[1]
            || groups == 0 || inFeatures % groups != 0 || (groupSize != -1 && groupSize * groups != inFeatures))
        {
            throw new InvalidDataException($"{prefix}: AWQ tensor shapes disagree (in {inFeatures}, out {outFeatures}, {groups} groups).");
        }
        return new AwqLinear(outFeatures, inFeatures, groupSize,
            WeightBytes.ToInt32(folder.GetTensorBytes(prefix + ".qweight")),
            WeightBytes.ToInt32(folder.GetTensorBytes(prefix + ".qzeros")),
            WeightBytes.ToHalf(folder.GetTensorBytes(prefix + ".scales")));
    }
}
