using System.Diagnostics.CodeAnalysis;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Ptqtp;

/// <summary>Reads a trit-plane linear (docs/formats/trit-planes.md) back as the dense float32 <c>α1·T1 + α2·T2</c>.</summary>
public sealed class PtqtpPackedWeightReader : IPackedWeightReader
{
    public bool TryRead(ModelFolder folder, string weightName, [NotNullWhen(true)] out Tensor? weight) =>
        PackedLayout.TryReadDense(folder, weightName, "ptqtp", Read, out weight, PtqtpNames.Plane1);

    /// <summary>The stored tensors of one linear, checked against each other's shapes.</summary>
    public static PtqtpLinear Read(ModelFolder folder, string prefix)
    {
        var plane1 = folder.GetEntry(prefix + PtqtpNames.Plane1);
        var plane2 = folder.GetEntry(prefix + PtqtpNames.Plane2);
        var alpha = folder.GetEntry(prefix + PtqtpNames.Alpha);
        if (plane1.Dtype != SafetensorsDtype.U8 || plane2.Dtype != SafetensorsDtype.U8 || alpha.Shape.Length != 3
            || plane1.Shape.Length != 2 || !plane1.Shape.SequenceEqual(plane2.Shape) || alpha.Shape[0] != plane1.Shape[0] || alpha.Shape[2] != 2)
        {
            throw new InvalidDataException($"{prefix}: trit planes must be two U8 [out, ceil(in/5)] and weight_alpha [out, groups, 2].");
        }
        var outF = (int)plane1.Shape[0];
        // Five trits a byte loses the exact column count; the I32 weight_shape [out, in] keeps it.
        var shape = WeightBytes.ToInt32(folder.GetTensorBytes(prefix + PtqtpNames.Shape));
        if (shape.Length != 2 || shape[0] != outF)
        {
            throw new InvalidDataException($"{prefix}: weight_shape must be [out, in] with out = {outF}.");
        }
        var inF = shape[1];
        var groups = (int)alpha.Shape[1];
        if (TritPacking.PackedLength(inF) != plane1.Shape[1] || inF % groups != 0)
        {
            throw new InvalidDataException($"{prefix}: {inF} input features do not match {plane1.Shape[1]} packed bytes and {groups} groups.");
        }
        return new PtqtpLinear(outF, inF, inF / groups,
            folder.GetTensorBytes(prefix + PtqtpNames.Plane1).ToArray(),
            folder.GetTensorBytes(prefix + PtqtpNames.Plane2).ToArray(),
            TensorBytes.ReadFloat(folder, prefix + PtqtpNames.Alpha));
    }
}
