using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Optimizer.Domain.Formats.Safetensors;

namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>Little-endian safetensors bytes to float32, for weight-only methods that never build the model.</summary>
internal static class WeightBytes
{
    public static bool IsFloat(SafetensorsDtype dtype) =>
        dtype is SafetensorsDtype.F32 or SafetensorsDtype.F16 or SafetensorsDtype.BF16;

    public static float[] ToFloat32(ReadOnlySpan<byte> bytes, SafetensorsDtype dtype)
    {
        switch (dtype)
        {
            case SafetensorsDtype.F32:
                return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            case SafetensorsDtype.F16:
                {
                    var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                    var result = new float[halves.Length];
                    for (var k = 0; k < halves.Length; k++)
                    {
                        result[k] = (float)halves[k];
                    }
                    return result;
                }
            case SafetensorsDtype.BF16:
                {
                    var result = new float[bytes.Length / 2];
                    for (var k = 0; k < result.Length; k++)
                    {
                        // bfloat16 is the high half of a float32.
                        result[k] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * k)..]) << 16);
                    }
                    return result;
                }
            default:
                throw new NotSupportedException($"{dtype} is not a floating-point weight dtype.");
        }
    }

    public static int[] ToInt32(ReadOnlySpan<byte> bytes) => MemoryMarshal.Cast<byte, int>(bytes).ToArray();

    public static Half[] ToHalf(ReadOnlySpan<byte> bytes) => MemoryMarshal.Cast<byte, Half>(bytes).ToArray();
}
