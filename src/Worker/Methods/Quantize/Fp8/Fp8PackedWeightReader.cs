using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Fp8;

/// <summary>
/// Reads an FP8 linear (<c>weight</c> F8_E4M3/F8_E5M2 plus float32 <c>weight_scale</c> of shape <c>[1]</c>, <c>[]</c>
/// or <c>[out, 1]</c>, docs/formats/fp8.md) back as a dense float32 weight: <c>decode(code) · weight_scale</c>.
/// </summary>
public sealed class Fp8PackedWeightReader : IPackedWeightReader
{
    public bool TryRead(ModelFolder folder, string weightName, [NotNullWhen(true)] out Tensor? weight)
    {
        weight = null;
        var scaleName = weightName + "_scale";
        if (!weightName.EndsWith(".weight", StringComparison.Ordinal)
            || !folder.ContainsTensor(weightName) || !folder.ContainsTensor(scaleName))
        {
            return false;
        }
        var entry = folder.GetEntry(weightName);
        if (entry.Shape.Length != 2 || !Fp8Spec.TryFormatOf(entry.Dtype, out var format))
        {
            return false;
        }
        var rows = (int)entry.Shape[0];
        var columns = (int)entry.Shape[1];
        var scaleEntry = folder.GetEntry(scaleName);
        if (scaleEntry.Dtype != SafetensorsDtype.F32 || (scaleEntry.ElementCount != 1 && scaleEntry.ElementCount != rows))
        {
            throw new InvalidDataException($"{scaleName}: expected float32 with 1 or {rows} elements, got {scaleEntry.Dtype} [{string.Join(", ", scaleEntry.Shape)}].");
        }
        var scales = MemoryMarshal.Cast<byte, float>(folder.GetTensorBytes(scaleName)).ToArray();
        var dense = new float[(long)rows * columns];
        Fp8Quantizer.Dequantize(folder.GetTensorBytes(weightName), scales, rows, columns, format, dense);
        weight = torch.tensor(dense, [rows, columns], ScalarType.Float32);
        return true;
    }
}
