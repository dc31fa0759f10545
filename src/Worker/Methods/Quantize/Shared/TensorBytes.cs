using System.Runtime.InteropServices;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>float32 arrays to the little-endian safetensors bytes of float16 or float32 tensors, and back.</summary>
internal static class TensorBytes
{
    public static byte[] Half(ReadOnlySpan<float> values)
    {
        var halves = new Half[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            halves[i] = (Half)values[i];
        }
        return MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
    }

    public static byte[] Float(ReadOnlySpan<float> values) => MemoryMarshal.AsBytes(values).ToArray();

    /// <summary>Rounds every value to float16 and back, so the float32 copy holds exactly what will be stored.</summary>
    public static void RoundToHalf(Span<float> values)
    {
        foreach (ref var v in values)
        {
            v = (float)(Half)v;
        }
    }

    /// <summary>A stored F16 or F32 tensor as float32.</summary>
    public static float[] ReadFloat(ModelFolder folder, string name)
    {
        var entry = folder.GetEntry(name);
        if (entry.Dtype is not (SafetensorsDtype.F16 or SafetensorsDtype.F32))
        {
            throw new InvalidDataException($"{name}: expected float16 or float32, got {entry.Dtype}.");
        }
        return WeightBytes.ToFloat32(folder.GetTensorBytes(name), entry.Dtype);
    }
}
