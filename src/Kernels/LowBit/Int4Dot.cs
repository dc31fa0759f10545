using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>Int4 row dot, reference: the same integer products the SIMD versions compute, one at a time.</summary>
internal readonly struct Int4DotScalar : IRowDot
{
    public static float Dot1(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout)
    {
        var total = 0f;
        for (var b = 0; b < layout.Blocks; b++)
        {
            var sum = 0;
            for (var k = b * layout.BlockSize; k < (b + 1) * layout.BlockSize; k++)
            {
                // Input k is the low (first 32 of its chunk) or high nibble of byte 32·chunk + k % 32.
                var code = weights[k / Int4Matrix.ChunkInputs * 32 + k % 32] >> (k % Int4Matrix.ChunkInputs < 32 ? 0 : 4) & 0xF;
                sum += code * x[k];
            }
            total += blockScales[b] * groupScales[layout.GroupOfBlock[b]] * sum;
        }
        return total;
    }

    public static void Dot4(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results)
    {
        for (var r = 0; r < 4; r++)
        {
            results[r] = Dot1(weights, x.Slice(r * layout.PaddedIn), blockScales.Slice(r * layout.Blocks), groupScales, layout);
        }
    }
}

/// <summary>
/// Int4 row dot with AVX2: one 32-byte load, a mask and a shift give 64 unsigned codes for <c>vpmaddubsw</c>; integer sums
/// run to the end of the activation block, then one convert and one FMA per block.
/// </summary>
internal readonly struct Int4Dot256 : IRowDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte> Low, Vector256<byte> High) Decode(ref byte codes, int chunk)
    {
        var packed = Vector256.LoadUnsafe(ref codes, (nuint)(chunk * 32));
        var nibble = Vector256.Create((byte)0x0F);
        return (packed & nibble, Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step(Vector256<byte> low, Vector256<byte> high, ref sbyte x, int chunk)
    {
        // Codes ≤ 15 and |x| ≤ 127: a pair sums to at most 3810, so vpmaddubsw never saturates and two of them fit a short.
        var pairs = Avx2.MultiplyAddAdjacent(low, Vector256.LoadUnsafe(ref x, (nuint)(chunk * 64)))
            + Avx2.MultiplyAddAdjacent(high, Vector256.LoadUnsafe(ref x, (nuint)(chunk * 64 + 32)));
        return Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1));
    }

    public static float Dot1(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout)
    {
        ref var codes = ref MemoryMarshal.GetReference(weights);
        ref var activations = ref MemoryMarshal.GetReference(x);
        var chunksPerBlock = layout.BlockSize / Int4Matrix.ChunkInputs;
        var acc = Vector256<float>.Zero;
        var chunk = 0;
        for (var b = 0; b < layout.Blocks; b++)
        {
            var sum = Vector256<int>.Zero;
            for (var end = chunk + chunksPerBlock; chunk < end; chunk++)
            {
                var (low, high) = Decode(ref codes, chunk);
                sum += Step(low, high, ref activations, chunk);
            }
            acc = Fma.MultiplyAdd(Vector256.ConvertToSingle(sum), Vector256.Create(blockScales[b] * groupScales[layout.GroupOfBlock[b]]), acc);
        }
        return Vector256.Sum(acc);
    }

    public static void Dot4(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results)
    {
        ref var codes = ref MemoryMarshal.GetReference(weights);
        ref var x0 = ref MemoryMarshal.GetReference(x);
        ref var x1 = ref Unsafe.Add(ref x0, layout.PaddedIn);
        ref var x2 = ref Unsafe.Add(ref x1, layout.PaddedIn);
        ref var x3 = ref Unsafe.Add(ref x2, layout.PaddedIn);
        var (blocks, chunksPerBlock) = (layout.Blocks, layout.BlockSize / Int4Matrix.ChunkInputs);
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        var chunk = 0;
        for (var b = 0; b < blocks; b++)
        {
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (var end = chunk + chunksPerBlock; chunk < end; chunk++)
            {
                var (low, high) = Decode(ref codes, chunk);
                s0 += Step(low, high, ref x0, chunk);
                s1 += Step(low, high, ref x1, chunk);
                s2 += Step(low, high, ref x2, chunk);
                s3 += Step(low, high, ref x3, chunk);
            }
            var sw = groupScales[layout.GroupOfBlock[b]];
            acc0 = Fma.MultiplyAdd(Vector256.ConvertToSingle(s0), Vector256.Create(blockScales[b] * sw), acc0);
            acc1 = Fma.MultiplyAdd(Vector256.ConvertToSingle(s1), Vector256.Create(blockScales[blocks + b] * sw), acc1);
            acc2 = Fma.MultiplyAdd(Vector256.ConvertToSingle(s2), Vector256.Create(blockScales[2 * blocks + b] * sw), acc2);
            acc3 = Fma.MultiplyAdd(Vector256.ConvertToSingle(s3), Vector256.Create(blockScales[3 * blocks + b] * sw), acc3);
        }
        results[0] = Vector256.Sum(acc0);
        results[1] = Vector256.Sum(acc1);
        results[2] = Vector256.Sum(acc2);
        results[3] = Vector256.Sum(acc3);
    }
}

/// <summary>Int4 row dot with SSSE3: each 32-byte chunk is two 16-byte halves, each half feeding both of its 32-input runs.</summary>
internal readonly struct Int4Dot128 : IRowDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Step(ref byte codes, ref sbyte x, int chunk)
    {
        var nibble = Vector128.Create((byte)0x0F);
        var first = Vector128.LoadUnsafe(ref codes, (nuint)(chunk * 32));
        var second = Vector128.LoadUnsafe(ref codes, (nuint)(chunk * 32 + 16));
        ref var xc = ref Unsafe.Add(ref x, chunk * 64);
        // Four pairs per 16-bit lane at most: 4 · 3810 fits a short.
        var pairs = Ssse3.MultiplyAddAdjacent(first & nibble, Vector128.LoadUnsafe(ref xc))
            + Ssse3.MultiplyAddAdjacent(second & nibble, Vector128.LoadUnsafe(ref xc, 16))
            + Ssse3.MultiplyAddAdjacent(Vector128.ShiftRightLogical(first.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xc, 32))
            + Ssse3.MultiplyAddAdjacent(Vector128.ShiftRightLogical(second.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xc, 48));
        return Sse2.MultiplyAddAdjacent(pairs, Vector128.Create((short)1));
    }

    public static float Dot1(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout)
    {
        ref var codes = ref MemoryMarshal.GetReference(weights);
        ref var activations = ref MemoryMarshal.GetReference(x);
        var chunksPerBlock = layout.BlockSize / Int4Matrix.ChunkInputs;
        var acc = Vector128<float>.Zero;
        var chunk = 0;
        for (var b = 0; b < layout.Blocks; b++)
        {
            var sum = Vector128<int>.Zero;
            for (var end = chunk + chunksPerBlock; chunk < end; chunk++)
            {
                sum += Step(ref codes, ref activations, chunk);
            }
            acc += Vector128.ConvertToSingle(sum) * Vector128.Create(blockScales[b] * groupScales[layout.GroupOfBlock[b]]);
        }
        return Vector128.Sum(acc);
    }

    public static void Dot4(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results)
    {
        // SSSE3 has too few registers to share the decode across four rows; the 128-bit path is the fallback, not the fast one.
        for (var r = 0; r < 4; r++)
        {
            results[r] = Dot1(weights, x.Slice(r * layout.PaddedIn), blockScales.Slice(r * layout.Blocks), groupScales, layout);
        }
    }
}
