using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// The T-MAC-style ternary kernel for one tile of 32 rows and one activation row (ALGORITHMS.md 6.1): per four inputs,
/// one table of 16 partial sums; per trit plane two <c>pshufb</c> lookups (the <c>b⁺</c> and <c>b⁻</c> indices of 32 rows)
/// whose difference, <c>Σ t·x</c> over four inputs, fits int8 (|x| ≤ 31); int16 sums to the end of the activation block,
/// then the plane scales in fp32.
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<short> Low, Vector256<short> High) Lookup(Vector256<sbyte> table, ref byte codes, int offset)
    {
        var v = Vector256.LoadUnsafe(ref codes, (nuint)offset);
        var nibble = Vector256.Create((byte)0x0F);
        var plus = (v & nibble).AsSByte();
        var minus = (Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & nibble).AsSByte();
        // Σ t·x over four inputs: |.| ≤ 4·31 = 124, so the int8 difference cannot wrap.
        var d = Avx2.Shuffle(table, plus) - Avx2.Shuffle(table, minus);
        return (Avx2.ConvertToVector256Int16(d.GetLower()), Avx2.ConvertToVector256Int16(d.GetUpper()));
    }

    /// <summary>AVX2: writes the tile's rows of <paramref name="y"/> (up to 32).</summary>
    public static void Tile256(TernaryMatrix weight, int tile, ReadOnlySpan<sbyte> tables, ReadOnlySpan<float> blockScales, Span<float> y)
    {
        var layout = weight.Layout;
        var steps = layout.PaddedIn / TernaryMatrix.LookupInputs;
        var stepsPerBlock = layout.BlockSize / TernaryMatrix.LookupInputs;
        ref var codes = ref MemoryMarshal.GetArrayDataReference(weight.Codes);
        var (planes, stepBytes) = (weight.Planes, weight.StepBytes);
        codes = ref Unsafe.Add(ref codes, (nint)tile * steps * stepBytes);
        ref var table0 = ref MemoryMarshal.GetReference(tables);
        ref var scales = ref MemoryMarshal.GetArrayDataReference(weight.Scales);
        scales = ref Unsafe.Add(ref scales, tile * layout.Groups * planes * TernaryMatrix.TileRows);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        var step = 0;
        for (var b = 0; b < layout.Blocks; b++)
        {
            // int16 sums over one block of ≤ 128 inputs: ≤ 32 lookups of ≤ 124.
            Vector256<short> p1Low = default, p1High = default, p2Low = default, p2High = default;
            for (var end = step + stepsPerBlock; step < end; step++)
            {
                var table = Vector256.Create(Vector128.LoadUnsafe(ref table0, (nuint)(step * 16)));
                var (low1, high1) = Lookup(table, ref codes, step * stepBytes);
                p1Low += low1;
                p1High += high1;
                if (planes == 2)
                {
                    var (low2, high2) = Lookup(table, ref codes, step * stepBytes + TernaryMatrix.TileRows);
                    p2Low += low2;
                    p2High += high2;
                }
            }
            var sx = Vector256.Create(blockScales[b]);
            ref var a1 = ref Unsafe.Add(ref scales, layout.GroupOfBlock[b] * planes * TernaryMatrix.TileRows);
            // One plane: the second plane's sums are zero, so any finite scale row will do — reuse the first.
            ref var a2 = ref Unsafe.Add(ref a1, (planes - 1) * TernaryMatrix.TileRows);
            f0 = Accumulate(f0, p1Low.GetLower(), p2Low.GetLower(), ref a1, ref a2, 0, sx);
            f1 = Accumulate(f1, p1Low.GetUpper(), p2Low.GetUpper(), ref a1, ref a2, 8, sx);
            f2 = Accumulate(f2, p1High.GetLower(), p2High.GetLower(), ref a1, ref a2, 16, sx);
            f3 = Accumulate(f3, p1High.GetUpper(), p2High.GetUpper(), ref a1, ref a2, 24, sx);
        }
        Span<float> lanes = stackalloc float[TernaryMatrix.TileRows];
        f0.CopyTo(lanes);
        f1.CopyTo(lanes[8..]);
        f2.CopyTo(lanes[16..]);
        f3.CopyTo(lanes[24..]);
        lanes[..y.Length].CopyTo(y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate(Vector256<float> acc, Vector128<short> plane1, Vector128<short> plane2,
        ref float a1, ref float a2, int lane, Vector256<float> sx)
    {
        var s1 = Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(plane1));
        var s2 = Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(plane2));
        var weighted = Fma.MultiplyAdd(s1, Vector256.LoadUnsafe(ref a1, (nuint)lane), s2 * Vector256.LoadUnsafe(ref a2, (nuint)lane));
        return Fma.MultiplyAdd(weighted, sx, acc);
    }
}
