using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// One activation block to int8 (absmax, round half to even), 32 values at a time: the same arithmetic as the scalar
/// loop of <see cref="QuantizedActivations"/> (one multiply, round to even, clamp), so the codes are identical. It runs
/// once per block in every timed call, single-threaded before the row split, so at batch 1 the scalar loop would be a
/// twentieth of a 4096 × 4096 product.
/// </summary>
internal static class BlockQuantizer
{
    /// <summary>Whether <see cref="Quantize"/> takes a block of this length.</summary>
    public static bool Handles(int length) => Vector256.IsHardwareAccelerated && length % 32 == 0;

    /// <summary>Quantizes <paramref name="block"/> (a multiple of 32 long) into <paramref name="codes"/>; returns the scale and the codes' sum.</summary>
    public static (float Scale, int Sum) Quantize(ReadOnlySpan<float> block, Span<sbyte> codes, int maxCode)
    {
        ref var x = ref MemoryMarshal.GetReference(block);
        var amax = Vector256<float>.Zero;
        for (var j = 0; j < block.Length; j += 8)
        {
            amax = Vector256.Max(amax, Vector256.Abs(Vector256.LoadUnsafe(ref x, (nuint)j)));
        }
        var max = 0f;
        for (var k = 0; k < Vector256<float>.Count; k++)
        {
            max = MathF.Max(max, amax[k]);
        }
        if (max == 0f)
        {
            codes[..block.Length].Clear();
            return (0f, 0);
        }
        var inverse = Vector256.Create(maxCode / max);
        var (low, high) = (Vector256.Create(-maxCode), Vector256.Create(maxCode));
        ref var destination = ref MemoryMarshal.GetReference(codes[..block.Length]);
        var sum = Vector256<int>.Zero;
        for (var j = 0; j < block.Length; j += 32)
        {
            var q0 = Code(ref x, j, inverse, low, high);
            var q1 = Code(ref x, j + 8, inverse, low, high);
            var q2 = Code(ref x, j + 16, inverse, low, high);
            var q3 = Code(ref x, j + 24, inverse, low, high);
            sum += (q0 + q1) + (q2 + q3);
            Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).StoreUnsafe(ref destination, (nuint)j);
        }
        return (max / maxCode, Vector256.Sum(sum));
    }

    private static Vector256<int> Code(ref float x, int at, Vector256<float> inverse, Vector256<int> low, Vector256<int> high) =>
        Vector256.Clamp(Vector256.ConvertToInt32(Vector256.Round(Vector256.LoadUnsafe(ref x, (nuint)at) * inverse)), low, high);
}
