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

/// <summary>Row dot for 4-bit codes with SSSE3: each 32-byte chunk is two 16-byte halves, each feeding both of its 32-input runs.</summary>
internal readonly struct NibbleDot128<TCode> : IRowDot
    where TCode : INibbleCode
{
    /// <summary>The <c>pmaddubsw</c> pairs of 16 codes with 16 int8 activations (the fallback path: the table load is not hoisted).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> Pairs(Vector128<byte> codes, Vector128<sbyte> x) =>
        Ssse3.MultiplyAddAdjacent(TCode.Decode(codes, TCode.Table.GetLower()), x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Step(ref byte codes, ref sbyte x, int chunk)
    {
        var nibble = Vector128.Create((byte)0x0F);
        var first = Vector128.LoadUnsafe(ref codes, (nuint)(chunk * 32));
        var second = Vector128.LoadUnsafe(ref codes, (nuint)(chunk * 32 + 16));
        ref var xc = ref Unsafe.Add(ref x, chunk * 64);
        // Four pairs per 16-bit lane, each at most 6096 (INibbleCode): the sum fits a short.
        var pairs = Pairs(first & nibble, Vector128.LoadUnsafe(ref xc))
            + Pairs(second & nibble, Vector128.LoadUnsafe(ref xc, 16))
            + Pairs(Vector128.ShiftRightLogical(first.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xc, 32))
            + Pairs(Vector128.ShiftRightLogical(second.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xc, 48));
        return Sse2.MultiplyAddAdjacent(pairs, Vector128.Create((short)1));
    }

    /// <summary>Blocks of 32: each nibble half of a chunk is its own block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
            var low = Pairs(first & nibble, Vector128.LoadUnsafe(ref xc)) + Pairs(second & nibble, Vector128.LoadUnsafe(ref xc, 16));
            var high = Pairs(Vector128.ShiftRightLogical(first.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xc, 32))
                + Pairs(Vector128.ShiftRightLogical(second.AsUInt16(), 4).AsByte() & nibble, Vector128.LoadUnsafe(ref xc, 48));
            acc += Vector128.ConvertToSingle(Sse2.MultiplyAddAdjacent(low, ones)) * Vector128.Create(blockScales[b] * groupScales[layout.GroupOfBlock[b]]);
            acc += Vector128.ConvertToSingle(Sse2.MultiplyAddAdjacent(high, ones)) * Vector128.Create(blockScales[b + 1] * groupScales[layout.GroupOfBlock[b + 1]]);
        }
        return Vector128.Sum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
