using System.Diagnostics.CodeAnalysis;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Fp4;

/// <summary>
/// Reads an FP4 linear (docs/formats/fp4.md: <c>weight_packed</c> U8 nibbles, <c>weight_scale</c> F16 or E8M0 bytes,
/// optional <c>weight_row_scale</c> and LoRC factors) back as a dense float32 weight.
/// </summary>
public sealed class Fp4PackedWeightReader : IPackedWeightReader
{
    public bool TryRead(ModelFolder folder, string weightName, [NotNullWhen(true)] out Tensor? weight) =>
        PackedLayout.TryReadDense(folder, weightName, "fp4", Read, out weight, Fp4Names.Packed, Fp4Names.Scale);

    /// <summary>The stored tensors of one linear, checked against each other's shapes.</summary>
    public static Fp4Linear Read(ModelFolder folder, string prefix)
    {
        var packed = folder.GetEntry(prefix + Fp4Names.Packed);
        var scale = folder.GetEntry(prefix + Fp4Names.Scale);
        if (packed.Dtype != SafetensorsDtype.U8 || packed.Shape.Length != 2 || scale.Shape.Length != 2
            || scale.Shape[0] != packed.Shape[0] || scale.Shape[1] < 1 || packed.Shape[1] * 2 % scale.Shape[1] != 0)
        {
            throw new InvalidDataException($"{prefix}: FP4 tensors must be weight_packed U8 [out, in/2] and weight_scale [out, groups].");
        }
        var outF = (int)packed.Shape[0];
        var inF = (int)packed.Shape[1] * 2;
        var groupSize = inF / (int)scale.Shape[1];
        var groupScales = scale.Dtype switch
        {
            SafetensorsDtype.U8 => [.. folder.GetTensorBytes(prefix + Fp4Names.Scale).ToArray().Select(Fp4Quantizer.FromE8M0)],
            _ => TensorBytes.ReadFloat(folder, prefix + Fp4Names.Scale),
        };
        var rowScales = folder.ContainsTensor(prefix + Fp4Names.RowScale)
            ? TensorBytes.ReadFloat(folder, prefix + Fp4Names.RowScale)
            : [.. Enumerable.Repeat(1f, outF)];
        if (rowScales.Length != outF)
        {
            throw new InvalidDataException($"{prefix}: weight_row_scale must have {outF} elements.");
        }
        var linear = new Fp4Linear(outF, inF, groupSize, folder.GetTensorBytes(prefix + Fp4Names.Packed).ToArray(), groupScales, rowScales, 0, [], []);
        if (!folder.ContainsTensor(prefix + Fp4Names.LorcU))
        {
            return linear;
        }
        var u = folder.GetEntry(prefix + Fp4Names.LorcU);
        var v = folder.GetEntry(prefix + Fp4Names.LorcV);
        if (u.Shape.Length != 2 || v.Shape.Length != 2 || u.Shape[0] != outF || v.Shape[1] != inF || u.Shape[1] != v.Shape[0])
        {
            throw new InvalidDataException($"{prefix}: LoRC factors must be [out, r] and [r, in].");
        }
        return linear with
        {
            LorcRank = (int)u.Shape[1],
            LorcU = TensorBytes.ReadFloat(folder, prefix + Fp4Names.LorcU),
            LorcV = TensorBytes.ReadFloat(folder, prefix + Fp4Names.LorcV),
        };
    }
}
