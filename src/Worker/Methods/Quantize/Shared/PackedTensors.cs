using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>Flat packed arrays to tensors for the safetensors writer, and the four tensors of a GPTQ linear.</summary>
public static class PackedTensors
{
    public static Tensor Int32(int[] values, long[] shape) => torch.tensor(values, shape, ScalarType.Int32);

    public static Tensor Half(Half[] values, long[] shape)
    {
        var floats = new float[values.Length];
        for (var k = 0; k < values.Length; k++)
        {
            floats[k] = (float)values[k];
        }
        // Every value is a float16 already, so the conversion back is exact.
        using var wide = torch.tensor(floats, shape, ScalarType.Float32);
        return wide.to_type(ScalarType.Float16);
    }

    /// <summary>Adds <c>qweight</c>, <c>qzeros</c>, <c>g_idx</c> and <c>scales</c> of <paramref name="linear"/> under <paramref name="prefix"/>.</summary>
    public static void AddGptq(SafetensorsWriter writer, string prefix, GptqLinear linear)
    {
        long groups = linear.Groups;
        writer.Add(prefix + ".qweight", SafetensorsDtype.I32, [linear.QWeightRows, linear.OutFeatures],
            () => Int32(linear.QWeight, [linear.QWeightRows, linear.OutFeatures]));
        writer.Add(prefix + ".qzeros", SafetensorsDtype.I32, [groups, linear.QZerosColumns],
            () => Int32(linear.QZeros, [groups, linear.QZerosColumns]));
        writer.Add(prefix + ".g_idx", SafetensorsDtype.I32, [linear.InFeatures],
            () => Int32(linear.GIdx, [linear.InFeatures]));
        writer.Add(prefix + ".scales", SafetensorsDtype.F16, [groups, linear.OutFeatures],
            () => Half(linear.Scales, [groups, linear.OutFeatures]));
    }
}
