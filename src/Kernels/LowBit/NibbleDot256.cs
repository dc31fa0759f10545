using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// Row dot for 4-bit codes with AVX2: one 32-byte load, a mask and a shift give 64 codes; <typeparamref name="TCode"/> turns
/// them into unsigned bytes (no work for int4, one <c>pshufb</c> for E2M1) that go straight into <c>vpmaddubsw</c> with the
/// int8 activations; the 16-bit pair sums of a whole block (at most four, see <see cref="INibbleCode"/>) take one
/// <c>vpmaddwd</c>, one convert and one FMA.
/// </summary>
/// <remarks>
/// Loops walk refs and keep every constant in a register: the JIT neither hoists <c>Vector256.Create</c> of a constant out
/// of a loop nor drops the bounds checks of span indexing, and both cost as much as the dot's own instructions.
/// </remarks>
[SkipLocalsInit]
internal readonly struct NibbleDot256<TCode> : IRowDot
    where TCode : INibbleCode
{
    /// <summary>Blocks whose combined scales are kept on the stack at once (1 KiB per activation row).</summary>
    private const int SegmentBlocks = 256;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot1(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout)
    {
        if (layout.BlockSize < NibblePacking.ChunkInputs)
        {
            return HalfBlocks(weights, x, blockScales, groupScales, layout);
        }
        // Blocks of 64 or 128: one or two chunks each. The scales of a segment are combined up front (8 at a time for
        // groups of one block, the GPTQ g128 case), so the loop's only scalar work is one broadcast per block.
        Span<float> combined = stackalloc float[SegmentBlocks];
        var acc = new Accumulators();
        var chunksPerBlock = layout.BlockSize / NibblePacking.ChunkInputs;
        for (var start = 0; start < layout.Blocks; start += SegmentBlocks)
        {
            var count = Math.Min(SegmentBlocks, layout.Blocks - start);
            BlockScales.Combine(blockScales, groupScales, layout, start, combined[..count]);
            BlockRun(ref Unsafe.AsRef(in weights[start * layout.BlockSize / 2]), ref Unsafe.AsRef(in x[start * layout.BlockSize]),
                ref MemoryMarshal.GetReference(combined), count * chunksPerBlock, chunksPerBlock == 2, ref acc);
        }
        return Vector256.Sum((acc.A0 + acc.A1) + (acc.A2 + acc.A3));
    }

    /// <summary>
    /// The loop of <see cref="Dot1"/> over <paramref name="chunks"/> chunks of blocks of 128 (<paramref name="twoChunkBlocks"/>)
    /// or 64: four chunks per step, so a block's four pair sums (the most a short holds, see <see cref="INibbleCode"/>) add up
    /// in registers and two or four FMA chains take turns. No call inside, see <see cref="HalfBlockRun"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void BlockRun(ref byte codes, ref sbyte xs, ref float scale, int chunks, bool twoChunkBlocks, ref Accumulators acc)
    {
        var (nibble, ones, table) = (Vector256.Create((byte)0x0F), Vector256.Create((short)1), TCode.Table);
        var (acc0, acc1, acc2, acc3) = (acc.A0, acc.A1, acc.A2, acc.A3);
        var c = 0;
        for (; c + 4 <= chunks; c += 4)
        {
            Prefetch.Ahead(ref codes);
            Prefetch.Ahead(ref Unsafe.Add(ref codes, 64));
            var p0 = ChunkPairs(ref codes, ref xs, nibble, table);
            var p1 = ChunkPairs(ref Unsafe.Add(ref codes, 32), ref Unsafe.Add(ref xs, 64), nibble, table);
            var p2 = ChunkPairs(ref Unsafe.Add(ref codes, 64), ref Unsafe.Add(ref xs, 128), nibble, table);
            var p3 = ChunkPairs(ref Unsafe.Add(ref codes, 96), ref Unsafe.Add(ref xs, 192), nibble, table);
            if (twoChunkBlocks)
            {
                acc0 = BlockAdd(p0 + p1, scale, ones, acc0);
                acc1 = BlockAdd(p2 + p3, Unsafe.Add(ref scale, 1), ones, acc1);
                scale = ref Unsafe.Add(ref scale, 2);
            }
            else
            {
                FourBlocks(ref acc0, ref acc1, ref acc2, ref acc3, p0, p1, p2, p3, ref scale, ones);
                scale = ref Unsafe.Add(ref scale, 4);
            }
            codes = ref Unsafe.Add(ref codes, 128);
            xs = ref Unsafe.Add(ref xs, 256);
        }
        // Fewer than four chunks left: whole blocks, one at a time.
        var step = twoChunkBlocks ? 2 : 1;
        for (; c < chunks; c += step)
        {
            var pairs = ChunkPairs(ref codes, ref xs, nibble, table);
            if (twoChunkBlocks)
            {
                pairs += ChunkPairs(ref Unsafe.Add(ref codes, 32), ref Unsafe.Add(ref xs, 64), nibble, table);
            }
            acc0 = BlockAdd(pairs, scale, ones, acc0);
            scale = ref Unsafe.Add(ref scale, 1);
            codes = ref Unsafe.Add(ref codes, 32 * step);
            xs = ref Unsafe.Add(ref xs, 64 * step);
        }
        (acc.A0, acc.A1, acc.A2, acc.A3) = (acc0, acc1, acc2, acc3);
    }

    /// <summary>The 16-bit pair sums of one chunk (64 codes) with its 64 activations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> ChunkPairs(ref byte codes, ref sbyte xs, Vector256<byte> nibble, Vector256<byte> table)
    {
        var (low, high) = HalfPairs(ref codes, ref xs, nibble, table);
        return low + high;
    }

    /// <summary>The pair sums of a chunk's two runs of 32 (low nibbles: inputs 0–31, high: 32–63) apart, for blocks of 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<short> Low, Vector256<short> High) HalfPairs(ref byte codes, ref sbyte xs, Vector256<byte> nibble,
        Vector256<byte> table)
    {
        var packed = Vector256.LoadUnsafe(ref codes);
        return (Avx2.MultiplyAddAdjacent(TCode.Decode(packed & nibble, table), Vector256.LoadUnsafe(ref xs)),
            Avx2.MultiplyAddAdjacent(TCode.Decode(Avx2.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble, table),
                Vector256.LoadUnsafe(ref xs, 32)));
    }

    /// <summary>Four consecutive blocks into four FMA chains, block <c>i</c> scaled by <c>scale[i]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourBlocks(ref Vector256<float> acc0, ref Vector256<float> acc1, ref Vector256<float> acc2, ref Vector256<float> acc3,
        Vector256<short> p0, Vector256<short> p1, Vector256<short> p2, Vector256<short> p3, ref float scale, Vector256<short> ones)
    {
        acc0 = BlockAdd(p0, scale, ones, acc0);
        acc1 = BlockAdd(p1, Unsafe.Add(ref scale, 1), ones, acc1);
        acc2 = BlockAdd(p2, Unsafe.Add(ref scale, 2), ones, acc2);
        acc3 = BlockAdd(p3, Unsafe.Add(ref scale, 3), ones, acc3);
    }

    /// <summary><c>acc + scale · Σ pairs</c>: a block's pair sums widened to int, converted, scaled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> BlockAdd(Vector256<short> pairs, float scale, Vector256<short> ones, Vector256<float> acc) =>
        Fma.MultiplyAdd(Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(pairs, ones)), Vector256.Create(scale), acc);

    /// <summary>
    /// Blocks of 32 (groups of 32, e.g. MXFP4): each nibble half of a chunk is its own block. A scale per 32 inputs is as
    /// much scalar work as the SIMD dot itself, so the scales of a segment are multiplied up front, 8 at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float HalfBlocks(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout)
    {
        Span<float> combined = stackalloc float[SegmentBlocks];
        var acc = new Accumulators();
        for (var start = 0; start < layout.Blocks; start += SegmentBlocks)
        {
            var count = Math.Min(SegmentBlocks, layout.Blocks - start);
            BlockScales.Combine(blockScales, groupScales, layout, start, combined[..count]);
            HalfBlockRun(ref Unsafe.AsRef(in weights[start * 16]), ref Unsafe.AsRef(in x[start * 32]), ref MemoryMarshal.GetReference(combined), count, ref acc);
        }
        return Vector256.Sum((acc.A0 + acc.A1) + (acc.A2 + acc.A3));
    }

    /// <summary>
    /// The loop of <see cref="HalfBlocks"/> over <paramref name="count"/> blocks (even): a method of its own with no call
    /// inside, because every vector register is caller-saved on x64 Unix and a call in the loop nest leaves the JIT keeping
    /// the accumulators and constants on the stack. Two chunks per step feed four FMA chains, so no add waits on another's latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void HalfBlockRun(ref byte codes, ref sbyte xs, ref float scale, int count, ref Accumulators acc)
    {
        var (nibble, ones, table) = (Vector256.Create((byte)0x0F), Vector256.Create((short)1), TCode.Table);
        var (acc0, acc1, acc2, acc3) = (acc.A0, acc.A1, acc.A2, acc.A3);
        var b = 0;
        for (; b + 4 <= count; b += 4)
        {
            Prefetch.Ahead(ref codes);
            var (dot0, dot1) = HalfPairs(ref codes, ref xs, nibble, table);
            var (dot2, dot3) = HalfPairs(ref Unsafe.Add(ref codes, 32), ref Unsafe.Add(ref xs, 64), nibble, table);
            FourBlocks(ref acc0, ref acc1, ref acc2, ref acc3, dot0, dot1, dot2, dot3, ref scale, ones);
            codes = ref Unsafe.Add(ref codes, 64);
            xs = ref Unsafe.Add(ref xs, 128);
            scale = ref Unsafe.Add(ref scale, 4);
        }
        // Rows are whole chunks, so an odd chunk is all that can be left.
        if (b < count)
        {
            var (dot0, dot1) = HalfPairs(ref codes, ref xs, nibble, table);
            acc0 = BlockAdd(dot0, scale, ones, acc0);
            acc1 = BlockAdd(dot1, Unsafe.Add(ref scale, 1), ones, acc1);
        }
        (acc.A0, acc.A1, acc.A2, acc.A3) = (acc0, acc1, acc2, acc3);
    }

    /// <summary>Blocks of 32 for four activation rows: each chunk is loaded and decoded once for all four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HalfBlocks4(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results)
    {
        Span<float> combined = stackalloc float[4 * SegmentBlocks];
        var blocks = layout.Blocks;
        var (low, high) = (new Accumulators(), new Accumulators());
        for (var start = 0; start < blocks; start += SegmentBlocks)
        {
            var count = Math.Min(SegmentBlocks, blocks - start);
            for (var r = 0; r < 4; r++)
            {
                BlockScales.Combine(blockScales.Slice(r * blocks, blocks), groupScales, layout, start, combined.Slice(r * SegmentBlocks, count));
            }
            HalfBlockRun4(ref Unsafe.AsRef(in weights[start * 16]), ref Unsafe.AsRef(in x[start * 32]), layout.PaddedIn,
                ref MemoryMarshal.GetReference(combined), count, ref low, ref high);
        }
        results[0] = Vector256.Sum(low.A0 + high.A0);
        results[1] = Vector256.Sum(low.A1 + high.A1);
        results[2] = Vector256.Sum(low.A2 + high.A2);
        results[3] = Vector256.Sum(low.A3 + high.A3);
    }

    /// <summary>The loop of <see cref="HalfBlocks4"/> (no call inside, see <see cref="HalfBlockRun"/>): row r's scales start at <c>r · SegmentBlocks</c>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void HalfBlockRun4(ref byte codes, ref sbyte x0, int padded, ref float s0, int count,
        ref Accumulators low, ref Accumulators high)
    {
        var (nibble, ones, table) = (Vector256.Create((byte)0x0F), Vector256.Create((short)1), TCode.Table);
        var (acc0, acc1, acc2, acc3) = (low.A0, high.A0, low.A1, high.A1);
        var (acc4, acc5, acc6, acc7) = (low.A2, high.A2, low.A3, high.A3);
        for (var b = 0; b < count; b += 2)
        {
            var packed = Vector256.LoadUnsafe(ref codes);
            var lowCodes = TCode.Decode(packed & nibble, table);
            var highCodes = TCode.Decode(Avx2.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble, table);
            ref var x1 = ref Unsafe.Add(ref x0, padded);
            ref var x2 = ref Unsafe.Add(ref x1, padded);
            ref var x3 = ref Unsafe.Add(ref x2, padded);
            (acc0, acc1) = HalfStep(lowCodes, highCodes, ref x0, ref Unsafe.Add(ref s0, b), ones, acc0, acc1);
            (acc2, acc3) = HalfStep(lowCodes, highCodes, ref x1, ref Unsafe.Add(ref s0, SegmentBlocks + b), ones, acc2, acc3);
            (acc4, acc5) = HalfStep(lowCodes, highCodes, ref x2, ref Unsafe.Add(ref s0, 2 * SegmentBlocks + b), ones, acc4, acc5);
            (acc6, acc7) = HalfStep(lowCodes, highCodes, ref x3, ref Unsafe.Add(ref s0, 3 * SegmentBlocks + b), ones, acc6, acc7);
            codes = ref Unsafe.Add(ref codes, 32);
            x0 = ref Unsafe.Add(ref x0, 64);
        }
        (low.A0, high.A0, low.A1, high.A1) = (acc0, acc1, acc2, acc3);
        (low.A2, high.A2, low.A3, high.A3) = (acc4, acc5, acc6, acc7);
    }

    /// <summary>Four float accumulators carried from one segment's loop to the next.</summary>
    private struct Accumulators
    {
        public Vector256<float> A0, A1, A2, A3;
    }

    /// <summary>One chunk (two blocks of 32) of one activation row; <paramref name="scale"/> points at the two blocks' combined scales.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>) HalfStep(Vector256<byte> low, Vector256<byte> high, ref sbyte x, ref float scale,
        Vector256<short> ones, Vector256<float> accLow, Vector256<float> accHigh)
    {
        var lowDot = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(low, Vector256.LoadUnsafe(ref x)), ones);
        var highDot = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(high, Vector256.LoadUnsafe(ref x, 32)), ones);
        return (Fma.MultiplyAdd(Vector256.ConvertToSingle(lowDot), Vector256.Create(scale), accLow),
            Fma.MultiplyAdd(Vector256.ConvertToSingle(highDot), Vector256.Create(Unsafe.Add(ref scale, 1)), accHigh));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot4(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results)
    {
        if (layout.BlockSize < NibblePacking.ChunkInputs)
        {
            HalfBlocks4(weights, x, blockScales, groupScales, layout, results);
            return;
        }
        var (blocks, padded) = (layout.Blocks, layout.PaddedIn);
        ref var codes = ref MemoryMarshal.GetReference(weights);
        ref var x0 = ref MemoryMarshal.GetReference(x);
        ref var sx = ref MemoryMarshal.GetReference(blockScales);
        ref var sw = ref MemoryMarshal.GetReference(groupScales);
        ref var groupOf = ref MemoryMarshal.GetArrayDataReference(layout.GroupOfBlock);
        var (nibble, ones, table) = (Vector256.Create((byte)0x0F), Vector256.Create((short)1), TCode.Table);
        var chunksPerBlock = layout.BlockSize / NibblePacking.ChunkInputs;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (var b = 0; b < blocks; b++)
        {
            Vector256<short> p0 = default, p1 = default, p2 = default, p3 = default;
            for (var c = 0; c < chunksPerBlock; c++)
            {
                var packed = Vector256.LoadUnsafe(ref codes);
                var low = TCode.Decode(packed & nibble, table);
                var high = TCode.Decode(Avx2.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibble, table);
                ref var x1 = ref Unsafe.Add(ref x0, padded);
                ref var x2 = ref Unsafe.Add(ref x1, padded);
                ref var x3 = ref Unsafe.Add(ref x2, padded);
                p0 += Pairs(low, high, ref x0);
                p1 += Pairs(low, high, ref x1);
                p2 += Pairs(low, high, ref x2);
                p3 += Pairs(low, high, ref x3);
                codes = ref Unsafe.Add(ref codes, 32);
                x0 = ref Unsafe.Add(ref x0, 64);
            }
            var w = Unsafe.Add(ref sw, Unsafe.Add(ref groupOf, b));
            acc0 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(p0, ones)), Vector256.Create(Unsafe.Add(ref sx, b) * w), acc0);
            acc1 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(p1, ones)), Vector256.Create(Unsafe.Add(ref sx, blocks + b) * w), acc1);
            acc2 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(p2, ones)), Vector256.Create(Unsafe.Add(ref sx, 2 * blocks + b) * w), acc2);
            acc3 = Fma.MultiplyAdd(Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(p3, ones)), Vector256.Create(Unsafe.Add(ref sx, 3 * blocks + b) * w), acc3);
        }
        results[0] = Vector256.Sum(acc0);
        results[1] = Vector256.Sum(acc1);
        results[2] = Vector256.Sum(acc2);
        results[3] = Vector256.Sum(acc3);
    }

    /// <summary>The 16-bit pair sums of one chunk with 64 activations: two of the at most four a block adds up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Pairs(Vector256<byte> low, Vector256<byte> high, ref sbyte x) =>
        Avx2.MultiplyAddAdjacent(low, Vector256.LoadUnsafe(ref x)) + Avx2.MultiplyAddAdjacent(high, Vector256.LoadUnsafe(ref x, 32));
}
