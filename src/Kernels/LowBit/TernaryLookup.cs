using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// The T-MAC-style ternary kernel for one tile of 8 rows (ALGORITHMS.md 6.1): per quad of 16 inputs and trit plane, one
/// index register (<see cref="TernaryMatrix"/>'s remarks), two <c>pshufb</c> lookups into the tables of four steps and two
/// <c>vpmaddubsw</c> by (1, −1) that turn each row's (b⁺, b⁻) entries into <c>Σ t·x</c> in int16; int16 sums to the end of
/// the activation block, then the plane scales in fp32. The index register is decoded once for up to four activation rows.
/// </summary>
internal static class TernaryLookup
{
    /// <summary>Reference: the same integer sums from the trits, one at a time. Writes the tile's rows of <paramref name="y"/>.</summary>
    public static void TileScalar(TernaryMatrix weight, int tile, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales, Span<float> y)
    {
        var layout = weight.Layout;
        for (var lane = 0; lane < y.Length; lane++)
        {
            var o = tile * TernaryMatrix.TileRows + lane;
            var total = 0f;
            for (var b = 0; b < layout.Blocks; b++)
            {
                int s1 = 0, s2 = 0;
                for (var i = b * layout.BlockSize; i < Math.Min((b + 1) * layout.BlockSize, layout.InFeatures); i++)
                {
                    s1 += weight.TritAt(0, o, i) * x[i];
                    s2 += weight.TritAt(1, o, i) * x[i];
                }
                var g = layout.GroupOfBlock[b];
                total += blockScales[b] * (weight.ScaleAt(0, o, g) * s1 + weight.ScaleAt(1, o, g) * s2);
            }
            y[lane] = total;
        }
    }

    /// <summary>True when the AVX2 kernel can run this layout: its blocks are whole quads (group sizes of 4 and 8 are not).</summary>
    public static bool Fits(BlockLayout layout) => layout.BlockSize % TernaryMatrix.QuadInputs == 0;

    /// <summary>
    /// AVX2: <typeparamref name="TRows"/> activation rows from <paramref name="n0"/> times one tile; writes the tile's
    /// <paramref name="rows"/> outputs (up to 8) of each of those rows of <paramref name="y"/> <c>[batch, out]</c>.
    /// </summary>
    /// <remarks>
    /// <paramref name="tables"/> are every activation row's tables, offset by 128 (<see cref="QuantizedActivations.LookupTables"/>),
    /// and <paramref name="blockScales"/> every row's block scales.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile256<TPlanes, TRows>(TernaryMatrix weight, int tile, ReadOnlySpan<byte> tables, ReadOnlySpan<float> blockScales,
        Span<float> y, int n0, int rows)
        where TPlanes : IPlaneCount
        where TRows : IBatchRows
    {
        var layout = weight.Layout;
        var (blocks, quadsPerBlock) = (layout.Blocks, layout.BlockSize / TernaryMatrix.QuadInputs);
        var quadBytes = TPlanes.Count * TernaryMatrix.QuadPlaneBytes;
        ref var codes = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(weight.Codes),
            (nint)tile * (layout.PaddedIn / TernaryMatrix.QuadInputs) * quadBytes);
        // Tables of one activation row: 16 bytes per step of four inputs.
        var tableRow = layout.PaddedIn / TernaryMatrix.LookupInputs * 16;
        ref var x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(tables), (nint)n0 * tableRow);
        ref var x1 = ref Unsafe.Add(ref x0, TRows.Count > 1 ? tableRow : 0);
        ref var x2 = ref Unsafe.Add(ref x1, TRows.Count > 2 ? tableRow : 0);
        ref var x3 = ref Unsafe.Add(ref x2, TRows.Count > 3 ? tableRow : 0);
        ref var scales = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(weight.Scales),
            tile * layout.Groups * TPlanes.Count * TernaryMatrix.TileRows);
        var nibble = Vector256.Create((byte)0x0F);
        // vpmaddubsw's signed operand: +1 on the b⁺ byte, −1 on the b⁻ byte of each row.
        var signs = Vector256.Create((ushort)0xFF01).AsSByte();
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        // Advanced per quad rather than recomputed from its index: the loop's scalar work is a third of its vector work otherwise.
        ref var quad = ref codes;
        nuint offset = 0;
        for (var b = 0; b < blocks; b++)
        {
            // int16 sums: a quad adds at most 2·124 per lane, a block of ≤ 128 inputs 8 quads.
            Vector256<short> s0 = default, s1 = default, s2 = default, s3 = default;
            Vector256<short> r0 = default, r1 = default, r2 = default, r3 = default;
            for (var k = quadsPerBlock; k > 0; k--, quad = ref Unsafe.Add(ref quad, quadBytes), offset += 64)
            {
                // One line per quad of two planes, half a line of one: every quad asks for the line ahead.
                Prefetch.Ahead(ref quad);
                var (lo, hi) = Decode(Vector256.LoadUnsafe(ref quad), nibble);
                s0 += Look(ref x0, offset, lo, hi, signs);
                if (TRows.Count > 1)
                {
                    s1 += Look(ref x1, offset, lo, hi, signs);
                }
                if (TRows.Count > 2)
                {
                    s2 += Look(ref x2, offset, lo, hi, signs);
                    s3 += Look(ref x3, offset, lo, hi, signs);
                }
                if (TPlanes.Count == 2)
                {
                    (lo, hi) = Decode(Vector256.LoadUnsafe(ref quad, TernaryMatrix.QuadPlaneBytes), nibble);
                    r0 += Look(ref x0, offset, lo, hi, signs);
                    if (TRows.Count > 1)
                    {
                        r1 += Look(ref x1, offset, lo, hi, signs);
                    }
                    if (TRows.Count > 2)
                    {
                        r2 += Look(ref x2, offset, lo, hi, signs);
                        r3 += Look(ref x3, offset, lo, hi, signs);
                    }
                }
            }
            ref var a1 = ref Unsafe.Add(ref scales, layout.GroupOfBlock[b] * TPlanes.Count * TernaryMatrix.TileRows);
            var (w1, w2) = (Vector256.LoadUnsafe(ref a1), TPlanes.Count == 2 ? Vector256.LoadUnsafe(ref a1, TernaryMatrix.TileRows) : default);
            f0 = Accumulate<TPlanes>(f0, s0, r0, w1, w2, blockScales[n0 * blocks + b]);
            if (TRows.Count > 1)
            {
                f1 = Accumulate<TPlanes>(f1, s1, r1, w1, w2, blockScales[(n0 + 1) * blocks + b]);
            }
            if (TRows.Count > 2)
            {
                f2 = Accumulate<TPlanes>(f2, s2, r2, w1, w2, blockScales[(n0 + 2) * blocks + b]);
                f3 = Accumulate<TPlanes>(f3, s3, r3, w1, w2, blockScales[(n0 + 3) * blocks + b]);
            }
        }
        var outFeatures = weight.OutFeatures;
        var row0 = tile * TernaryMatrix.TileRows;
        Store(f0, y.Slice(n0 * outFeatures + row0, rows));
        if (TRows.Count > 1)
        {
            Store(f1, y.Slice((n0 + 1) * outFeatures + row0, rows));
        }
        if (TRows.Count > 2)
        {
            Store(f2, y.Slice((n0 + 2) * outFeatures + row0, rows));
            Store(f3, y.Slice((n0 + 3) * outFeatures + row0, rows));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte> Low, Vector256<byte> High) Decode(Vector256<byte> v, Vector256<byte> nibble) =>
        (v & nibble, Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & nibble);

    /// <summary>Steps 0–3 of one quad for 8 rows: int16 lane <c>r</c> of each half is row <c>r</c>'s <c>Σ t·x</c> over two steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Look(ref byte tables, nuint offset, Vector256<byte> low, Vector256<byte> high, Vector256<sbyte> signs) =>
        Avx2.MultiplyAddAdjacent(Avx2.Shuffle(Vector256.LoadUnsafe(ref tables, offset), low), signs)
        + Avx2.MultiplyAddAdjacent(Avx2.Shuffle(Vector256.LoadUnsafe(ref tables, offset + 32), high), signs);

    /// <summary>Adds one block: the two halves (even and odd steps) of each plane's sums, times the plane scales and the block scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate<TPlanes>(Vector256<float> acc, Vector256<short> plane1, Vector256<short> plane2,
        Vector256<float> a1, Vector256<float> a2, float blockScale)
        where TPlanes : IPlaneCount
    {
        var s1 = Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(plane1.GetLower() + plane1.GetUpper()));
        var weighted = s1 * a1;
        if (TPlanes.Count == 2)
        {
            var s2 = Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(plane2.GetLower() + plane2.GetUpper()));
            weighted = Fma.MultiplyAdd(s2, a2, weighted);
        }
        return Fma.MultiplyAdd(weighted, Vector256.Create(blockScale), acc);
    }

    private static void Store(Vector256<float> rows, Span<float> destination)
    {
        if (destination.Length == TernaryMatrix.TileRows)
        {
            rows.CopyTo(destination);
            return;
        }
        Span<float> lanes = stackalloc float[TernaryMatrix.TileRows];
        rows.CopyTo(lanes);
        lanes[..destination.Length].CopyTo(destination);
    }
}

/// <summary>Trit planes of a <see cref="TernaryMatrix"/> as a type, so the JIT compiles one kernel per count.</summary>
internal interface IPlaneCount
{
    static abstract int Count { get; }
}

internal readonly struct OnePlane : IPlaneCount
{
    public static int Count => 1;
}

internal readonly struct TwoPlanes : IPlaneCount
{
    public static int Count => 2;
}

/// <summary>Activation rows one kernel call shares each decoded index register among.</summary>
internal interface IBatchRows
{
    static abstract int Count { get; }
}

internal readonly struct OneRow : IBatchRows
{
    public static int Count => 1;
}

internal readonly struct TwoRows : IBatchRows
{
    public static int Count => 2;
}

internal readonly struct FourRows : IBatchRows
{
    public static int Count => 4;
}
