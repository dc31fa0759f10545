using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>Int4 row dot, reference: the same integer products the SIMD versions compute, one at a time.</summary>
internal readonly struct Int4DotScalar : IRowDot
{
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, ReadOnlySpan<int> groupOfBlock)
    {
        var total = 0f;
        for (var b = 0; b < blockScales.Length; b++)
        {
            // Block b is the low (even b) or high (odd b) nibbles of chunk b / 2.
            var bytes = row.Slice(b / 2 * 32, 32);
            var shift = b % 2 * 4;
            var sum = 0;
            for (var j = 0; j < 32; j++)
            {
                sum += (bytes[j] >> shift & 0xF) * x[b * 32 + j];
            }
            total += blockScales[b] * groupScales[groupOfBlock[b]] * sum;
        }
        return total;
    }
}

/// <summary>Int4 row dot with AVX2: one load, a mask and a shift give two blocks of unsigned codes for <c>vpmaddubsw</c>.</summary>
internal readonly struct Int4Dot256 : IRowDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, ReadOnlySpan<int> groupOfBlock)
    {
        ref var codes = ref MemoryMarshal.GetReference(row);
        ref var activations = ref MemoryMarshal.GetReference(x);
        var nibble = Vector256.Create((byte)0x0F);
        var ones = Vector256.Create((short)1);
        var acc = Vector256<float>.Zero;
        for (var b = 0; b < blockScales.Length; b += 2)
        {
            var packed = Vector256.LoadUnsafe(ref codes, (nuint)(b * 16));
            var low = packed & nibble;
            var high = Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble;
            // Codes ≤ 15 and |x| ≤ 127: a pair sums to at most 3810, so vpmaddubsw never saturates.
            var lowDot = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(low, Vector256.LoadUnsafe(ref activations, (nuint)(b * 32))), ones);
            var highDot = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(high, Vector256.LoadUnsafe(ref activations, (nuint)(b * 32 + 32))), ones);
            acc = Fma.MultiplyAdd(Vector256.ConvertToSingle(lowDot), Vector256.Create(blockScales[b] * groupScales[groupOfBlock[b]]), acc);
            acc = Fma.MultiplyAdd(Vector256.ConvertToSingle(highDot), Vector256.Create(blockScales[b + 1] * groupScales[groupOfBlock[b + 1]]), acc);
        }
        return Vector256.Sum(acc);
    }
}

/// <summary>Int4 row dot with SSSE3: each 32-byte chunk is two 16-byte halves, each half feeding both blocks.</summary>
internal readonly struct Int4Dot128 : IRowDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, ReadOnlySpan<int> groupOfBlock)
    {
        ref var codes = ref MemoryMarshal.GetReference(row);
        ref var activations = ref MemoryMarshal.GetReference(x);
        var nibble = Vector128.Create((byte)0x0F);
        var ones = Vector128.Create((short)1);
        var acc = Vector128<float>.Zero;
        for (var b = 0; b < blockScales.Length; b += 2)
        {
            var first = Vector128.LoadUnsafe(ref codes, (nuint)(b * 16));
            var second = Vector128.LoadUnsafe(ref codes, (nuint)(b * 16 + 16));
            ref var xb = ref Unsafe.Add(ref activations, b * 32);
            // Two pairs per 16-bit lane at most: 2 · 3810 fits a short.
            var low = Ssse3.MultiplyAddAdjacent(first & nibble, Vector128.LoadUnsafe(ref xb))
                + Ssse3.MultiplyAddAdjacent(second & nibble, Vector128.LoadUnsafe(ref xb, 16));
            var high = Ssse3.MultiplyAddAdjacent(Vector128.ShiftRightLogical(first.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xb, 32))
                + Ssse3.MultiplyAddAdjacent(Vector128.ShiftRightLogical(second.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xb, 48));
            acc += Vector128.ConvertToSingle(Sse2.MultiplyAddAdjacent(low, ones)) * Vector128.Create(blockScales[b] * groupScales[groupOfBlock[b]]);
            acc += Vector128.ConvertToSingle(Sse2.MultiplyAddAdjacent(high, ones)) * Vector128.Create(blockScales[b + 1] * groupScales[groupOfBlock[b + 1]]);
        }
        return Vector128.Sum(acc);
    }
}
