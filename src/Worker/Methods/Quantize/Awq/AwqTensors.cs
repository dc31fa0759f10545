using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Awq;

/// <summary>The three tensors of an AWQ GEMM linear for the safetensors writer.</summary>
internal static class AwqTensors
{
    public static void Add(SafetensorsWriter writer, string prefix, AwqLinear linear)
    {
        long words = AwqPacking.WordsPerRow(linear.OutFeatures);
        long groups = linear.Groups;
        writer.Add(prefix + ".qweight", SafetensorsDtype.I32, [linear.InFeatures, words],
            () => PackedTensors.Int32(linear.QWeight, [linear.InFeatures, words]));
        writer.Add(prefix + ".qzeros", SafetensorsDtype.I32, [groups, words],
            () => PackedTensors.Int32(linear.QZeros, [groups, words]));
        writer.Add(prefix + ".scales", SafetensorsDtype.F16, [groups, linear.OutFeatures],
            () => PackedTensors.Half(linear.Scales, [groups, linear.OutFeatures]));
    }
}
