using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// Row dot for 4-bit codes in the <see cref="NibblePacking"/> layout, reference: the same integer products the SIMD
/// versions compute, one at a time. <typeparamref name="TCode"/> says what a code is worth.
/// </summary>
internal readonly struct NibbleDotScalar<TCode> : IRowDot
    where TCode : INibbleCode
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
                sum += TCode.Value(NibblePacking.CodeAt(weights, k)) * x[k];
            }
            total += blockScales[b] * groupScales[layout.GroupOfBlock[b]] * sum;
        }
        return total;
    }

    public static void Dot4(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results)
    {
        RowDotFallback.FourByOne<NibbleDotScalar<TCode>>(weights, x, blockScales, groupScales, layout, results);
    }
}

/// <summary>
/// Row dot for 4-bit codes with AVX2: one 32-byte load, a mask and a shift give 64 codes; <typeparamref name="TCode"/> turns
/// them into <c>vpmaddubsw</c> pairs; integer sums run to the end of the activation block, then one convert and one FMA.
/// </summary>
internal readonly struct NibbleDot256<TCode> : IRowDot
    where TCode : INibbleCode
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte> Low, Vector256<byte> High) Decode(ref byte codes, int chunk)
    {
        var packed = Vector256.LoadUnsafe(ref codes, (nuint)(chunk * 32));
        var nibble = Vector256.Create((byte)0x0F);
        return (packed & nibble, Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step(NibbleWeights low, NibbleWeights high, ref sbyte x, int chunk)
    {
        // Each code type bounds a pair below 4096 (INibbleCode), so two pair sums still fit a short.
        var pairs = TCode.Multiply(low, Vector256.LoadUnsafe(ref x, (nuint)(chunk * 64)))
            + TCode.Multiply(high, Vector256.LoadUnsafe(ref x, (nuint)(chunk * 64 + 32)));
        return Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1));
    }

    public static float Dot1(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout)
    {
        ref var codes = ref MemoryMarshal.GetReference(weights);
        ref var activations = ref MemoryMarshal.GetReference(x);
        if (layout.BlockSize < NibblePacking.ChunkInputs)
        {
            return HalfBlocks(ref codes, ref activations, blockScales, groupScales, layout);
        }
        var chunksPerBlock = layout.BlockSize / NibblePacking.ChunkInputs;
        var acc = Vector256<float>.Zero;
        var chunk = 0;
        for (var b = 0; b < layout.Blocks; b++)
        {
            var sum = Vector256<int>.Zero;
            for (var end = chunk + chunksPerBlock; chunk < end; chunk++)
            {
                var (low, high) = Decode(ref codes, chunk);
                sum += Step(TCode.Decode(low), TCode.Decode(high), ref activations, chunk);
            }
            acc = Fma.MultiplyAdd(Vector256.ConvertToSingle(sum), Vector256.Create(blockScales[b] * groupScales[layout.GroupOfBlock[b]]), acc);
        }
        return Vector256.Sum(acc);
    }

    /// <summary>Blocks of 32 (groups of 32, e.g. MXFP4): each nibble half of a chunk is its own block.</summary>
    private static float HalfBlocks(ref byte codes, ref sbyte x, ReadOnlySpan<float> blockScales, ReadOnlySpan<float> groupScales,
        BlockLayout layout)
    {
        var ones = Vector256.Create((short)1);
        // A scale per 32 inputs is as much scalar work as the SIMD dot itself: multiply them all up front, 8 at a time.
        Span<float> combined = stackalloc float[layout.Blocks];
        CombineScales(blockScales, groupScales, layout, combined);
        ref var scale = ref MemoryMarshal.GetReference(combined);
        // Two accumulators: one FMA chain per nibble half, so the adds do not wait on each other's latency.
        Vector256<float> accLow = default, accHigh = default;
        for (var b = 0; b < layout.Blocks; b += 2)
        {
            var (low, high) = Decode(ref codes, b / 2);
            var lowDot = Avx2.MultiplyAddAdjacent(TCode.Pairs(low, Vector256.LoadUnsafe(ref x, (nuint)(b * 32))), ones);
            var highDot = Avx2.MultiplyAddAdjacent(TCode.Pairs(high, Vector256.LoadUnsafe(ref x, (nuint)(b * 32 + 32))), ones);
            accLow = Fma.MultiplyAdd(Vector256.ConvertToSingle(lowDot), Vector256.Create(Unsafe.Add(ref scale, b)), accLow);
            accHigh = Fma.MultiplyAdd(Vector256.ConvertToSingle(highDot), Vector256.Create(Unsafe.Add(ref scale, b + 1)), accHigh);
        }
        return Vector256.Sum(accLow + accHigh);
    }

    /// <summary><c>combined[b] = sx[b] · sw[g(b)]</c>; vectorized when every block is its own group (groups of 32, no padding block).</summary>
    private static void CombineScales(ReadOnlySpan<float> blockScales, ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> combined)
    {
        var b = 0;
        if (layout.Blocks == layout.Groups)
        {
            for (; b + Vector256<float>.Count <= combined.Length; b += Vector256<float>.Count)
            {
                (Vector256.Create(blockScales.Slice(b, Vector256<float>.Count)) * Vector256.Create(groupScales.Slice(b, Vector256<float>.Count)))
                    .CopyTo(combined.Slice(b));
            }
        }
        for (; b < combined.Length; b++)
        {
            combined[b] = blockScales[b] * groupScales[layout.GroupOfBlock[b]];
        }
    }

    /// <summary>Blocks of 32 for four activation rows: each chunk is loaded and decoded once for all four.</summary>
    private static void HalfBlocks4(ref byte codes, ref sbyte x0, ReadOnlySpan<float> blockScales, ReadOnlySpan<float> groupScales,
        BlockLayout layout, Span<float> results)
    {
        var ones = Vector256.Create((short)1);
        var (blocks, padded) = (layout.Blocks, layout.PaddedIn);
        ref var x1 = ref Unsafe.Add(ref x0, padded);
        ref var x2 = ref Unsafe.Add(ref x1, padded);
        ref var x3 = ref Unsafe.Add(ref x2, padded);
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (var b = 0; b < blocks; b += 2)
        {
            var (lowCodes, highCodes) = Decode(ref codes, b / 2);
            var (low, high) = (TCode.Decode(lowCodes), TCode.Decode(highCodes));
            var (swLow, swHigh) = (groupScales[layout.GroupOfBlock[b]], groupScales[layout.GroupOfBlock[b + 1]]);
            var (at, next) = ((nuint)(b * 32), (nuint)(b * 32 + 32));
            acc0 = HalfStep(low, high, ref x0, at, next, blockScales[b] * swLow, blockScales[b + 1] * swHigh, ones, acc0);
            acc1 = HalfStep(low, high, ref x1, at, next, blockScales[blocks + b] * swLow, blockScales[blocks + b + 1] * swHigh, ones, acc1);
            acc2 = HalfStep(low, high, ref x2, at, next, blockScales[2 * blocks + b] * swLow, blockScales[2 * blocks + b + 1] * swHigh, ones, acc2);
            acc3 = HalfStep(low, high, ref x3, at, next, blockScales[3 * blocks + b] * swLow, blockScales[3 * blocks + b + 1] * swHigh, ones, acc3);
        }
        results[0] = Vector256.Sum(acc0);
        results[1] = Vector256.Sum(acc1);
        results[2] = Vector256.Sum(acc2);
        results[3] = Vector256.Sum(acc3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfStep(NibbleWeights low, NibbleWeights high, ref sbyte x, nuint at, nuint next,
        float lowScale, float highScale, Vector256<short> ones, Vector256<float> acc)
    {
        var lowDot = Avx2.MultiplyAddAdjacent(TCode.Multiply(low, Vector256.LoadUnsafe(ref x, at)), ones);
        var highDot = Avx2.MultiplyAddAdjacent(TCode.Multiply(high, Vector256.LoadUnsafe(ref x, next)), ones);
        acc = Fma.MultiplyAdd(Vector256.ConvertToSingle(lowDot), Vector256.Create(lowScale), acc);
        return Fma.MultiplyAdd(Vector256.ConvertToSingle(highDot), Vector256.Create(highScale), acc);
    }

    public static void Dot4(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results)
    {
        ref var codes = ref MemoryMarshal.GetReference(weights);
        ref var x0 = ref MemoryMarshal.GetReference(x);
        if (layout.BlockSize < NibblePacking.ChunkInputs)
        {
            HalfBlocks4(ref codes, ref x0, blockScales, groupScales, layout, results);
            return;
        }
        ref var x1 = ref Unsafe.Add(ref x0, layout.PaddedIn);
        ref var x2 = ref Unsafe.Add(ref x1, layout.PaddedIn);
        ref var x3 = ref Unsafe.Add(ref x2, layout.PaddedIn);
        var (blocks, chunksPerBlock) = (layout.Blocks, layout.BlockSize / NibblePacking.ChunkInputs);
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        var chunk = 0;
        for (var b = 0; b < blocks; b++)
        {
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (var end = chunk + chunksPerBlock; chunk < end; chunk++)
            {
                var (lowCodes, highCodes) = Decode(ref codes, chunk);
                var (low, high) = (TCode.Decode(lowCodes), TCode.Decode(highCodes));
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

/// <summary>Row dot for 4-bit codes with SSSE3: each 32-byte chunk is two 16-byte halves, each feeding both of its 32-input runs.</summary>
internal readonly struct NibbleDot128<TCode> : IRowDot
    where TCode : INibbleCode
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Step(ref byte codes, ref sbyte x, int chunk)
    {
        var nibble = Vector128.Create((byte)0x0F);
        var first = Vector128.LoadUnsafe(ref codes, (nuint)(chunk * 32));
        var second = Vector128.LoadUnsafe(ref codes, (nuint)(chunk * 32 + 16));
        ref var xc = ref Unsafe.Add(ref x, chunk * 64);
        // Four pairs per 16-bit lane, each below 4096 (INibbleCode): the sum fits a short.
        var pairs = TCode.Pairs(first & nibble, Vector128.LoadUnsafe(ref xc))
            + TCode.Pairs(second & nibble, Vector128.LoadUnsafe(ref xc, 16))
            + TCode.Pairs(Vector128.ShiftRightLogical(first.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xc, 32))
            + TCode.Pairs(Vector128.ShiftRightLogical(second.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xc, 48));
        return Sse2.MultiplyAddAdjacent(pairs, Vector128.Create((short)1));
    }

    /// <summary>Blocks of 32: each nibble half of a chunk is its own block.</summary>
    private static float HalfBlocks(ref byte codes, ref sbyte x, ReadOnlySpan<float> blockScales, ReadOnlySpan<float> groupScales,
        BlockLayout layout)
    {
        var nibble = Vector128.Create((byte)0x0F);
        var ones = Vector128.Create((short)1);
        var acc = Vector128<float>.Zero;
        for (var b = 0; b < layout.Blocks; b += 2)
        {
            var first = Vector128.LoadUnsafe(ref codes, (nuint)(b * 16));
            var second = Vector128.LoadUnsafe(ref codes, (nuint)(b * 16 + 16));
            ref var xc = ref Unsafe.Add(ref x, b * 32);
            var low = TCode.Pairs(first & nibble, Vector128.LoadUnsafe(ref xc)) + TCode.Pairs(second & nibble, Vector128.LoadUnsafe(ref xc, 16));
            var high = TCode.Pairs(Vector128.ShiftRightLogical(first.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xc, 32))
                + TCode.Pairs(Vector128.ShiftRightLogical(second.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xc, 48));
            acc += Vector128.ConvertToSingle(Sse2.MultiplyAddAdjacent(low, ones)) * Vector128.Create(blockScales[b] * groupScales[layout.GroupOfBlock[b]]);
            acc += Vector128.ConvertToSingle(Sse2.MultiplyAddAdjacent(high, ones)) * Vector128.Create(blockScales[b + 1] * groupScales[layout.GroupOfBlock[b + 1]]);
        }
        return Vector128.Sum(acc);
    }

    public static float Dot1(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout)
    {
        ref var codes = ref MemoryMarshal.GetReference(weights);
        ref var activations = ref MemoryMarshal.GetReference(x);
        if (layout.BlockSize < NibblePacking.ChunkInputs)
        {
            return HalfBlocks(ref codes, ref activations, blockScales, groupScales, layout);
        }
        var chunksPerBlock = layout.BlockSize / NibblePacking.ChunkInputs;
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
        RowDotFallback.FourByOne<NibbleDot128<TCode>>(weights, x, blockScales, groupScales, layout, results);
    }
}
