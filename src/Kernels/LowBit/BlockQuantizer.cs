using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// One activation block to int8 codes: absmax scale, round half to even, clamp to <c>±maxCode</c>. Part of every timed
/// call; the AVX2 path gives the scalar reference's codes exactly (same float products, <c>vroundps</c> rounds half to even
/// as <see cref="MathF.Round(float)"/> does).
/// </summary>
internal static class BlockQuantizer
{
    /// <summary>The AVX2 path's unit: block lengths must be a multiple.</summary>
    public const int Width = 32;

    public static (float Scale, int Sum) QuantizeScalar(ReadOnlySpan<float> block, Span<sbyte> codes, int maxCode)
    {
        var amax = 0f;
        foreach (var v in block)
        {
            amax = MathF.Max(amax, MathF.Abs(v));
        }
        if (amax == 0f)
        {
            codes.Clear();
            return (0f, 0);
        }
        var scale = amax / maxCode;
        var inverse = maxCode / amax;
        var sum = 0;
        for (var j = 0; j < block.Length; j++)
        {
            var q = (int)MathF.Round(block[j] * inverse);
            q = Math.Clamp(q, -maxCode, maxCode);
            codes[j] = (sbyte)q;
            sum += q;
        }
        return (scale, sum);
    }

    /// <summary>AVX2, for blocks a multiple of <see cref="Width"/> long.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float Scale, int Sum) Quantize256(ReadOnlySpan<float> block, Span<sbyte> codes, int maxCode)
    {
        if (block.Length % Width != 0 || codes.Length < block.Length)
        {
            throw new ArgumentException($"the block must be a multiple of {Width} long and fit the codes.");
        }
        ref var x = ref MemoryMarshal.GetReference(block);
        var magnitude = Vector256.Create(0x7FFFFFFF).AsSingle();
        Vector256<float> m0 = default, m1 = default;
        for (var j = 0; j < block.Length; j += 16)
        {
            m0 = Avx.Max(m0, Vector256.LoadUnsafe(ref x, (nuint)j) & magnitude);
            m1 = Avx.Max(m1, Vector256.LoadUnsafe(ref x, (nuint)(j + 8)) & magnitude);
        }
        var amax = HorizontalMax(Avx.Max(m0, m1));
        if (amax == 0f)
        {
            codes[..block.Length].Clear();
            return (0f, 0);
        }
        var scale = amax / maxCode;
        var inverse = Vector256.Create(maxCode / amax);
        var (high, low) = (Vector256.Create((float)maxCode), Vector256.Create((float)-maxCode));
        ref var destination = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetReference(codes));
        // packs works within 128-bit lanes: this puts the 32 codes back in order.
        var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        var sums = Vector256<int>.Zero;
        for (var j = 0; j < block.Length; j += Width)
        {
            var q0 = Code(ref x, j, inverse, low, high);
            var q1 = Code(ref x, j + 8, inverse, low, high);
            var q2 = Code(ref x, j + 16, inverse, low, high);
            var q3 = Code(ref x, j + 24, inverse, low, high);
            sums += (q0 + q1) + (q2 + q3);
            var packed = Avx2.PackSignedSaturate(Avx2.PackSignedSaturate(q0, q1), Avx2.PackSignedSaturate(q2, q3));
            Avx2.PermuteVar8x32(packed.AsInt32(), order).AsByte().StoreUnsafe(ref destination, (nuint)j);
        }
        return (scale, Vector256.Sum(sums));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Code(ref float x, int j, Vector256<float> inverse, Vector256<float> low, Vector256<float> high)
    {
        var rounded = Avx.RoundToNearestInteger(Vector256.LoadUnsafe(ref x, (nuint)j) * inverse);
        return Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(rounded, low), high));
    }

    private static float HorizontalMax(Vector256<float> v)
    {
        var m = Sse.Max(v.GetLower(), v.GetUpper());
        m = Sse.Max(m, Sse.MoveHighToLow(m, m));
        return MathF.Max(m.ToScalar(), m.GetElement(1));
    }
}
