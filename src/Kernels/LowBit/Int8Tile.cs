using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// The AVX2 int8 kernel for batches of two or more: two weight rows times up to four activation rows per step, so each
/// activation register serves two rows and each weight register (and its <c>vpabsb</c>) up to four — half the activation
/// loads of <see cref="Int8Dot256.Dot4"/> per product. Same sign trick and integer sums as <see cref="Int8Dot256"/>.
/// </summary>
internal static class Int8Tile256
{
    /// <summary>
    /// Rows <paramref name="o"/> and <paramref name="o"/> + 1 of <paramref name="weight"/> times activation rows
    /// <paramref name="n0"/>.. (<typeparamref name="TRows"/> of them): writes those 2 × n outputs of <paramref name="y"/>
    /// <c>[batch, out]</c>, min term included.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TRows>(Int8Matrix weight, QuantizedActivations x, int o, int n0, Span<float> y)
        where TRows : IBatchRows
    {
        var layout = weight.Layout;
        var (blocks, stepsPerBlock, groups) = (layout.Blocks, layout.BlockSize / Int8Matrix.Unit, layout.Groups);
        ref var w0 = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(weight.Codes), (nint)o * layout.PaddedIn));
        ref var w1 = ref Unsafe.Add(ref w0, layout.PaddedIn);
        ref var x0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x.CodeArray), (nint)n0 * layout.PaddedIn);
        ref var x1 = ref Unsafe.Add(ref x0, TRows.Count > 1 ? layout.PaddedIn : 0);
        ref var x2 = ref Unsafe.Add(ref x1, TRows.Count > 2 ? layout.PaddedIn : 0);
        ref var x3 = ref Unsafe.Add(ref x2, TRows.Count > 3 ? layout.PaddedIn : 0);
        var blockScales = x.Scales;
        var scales = weight.Scales.AsSpan(o * groups, 2 * groups);
        // fp32 sums per (weight row, activation row), touched once per block: on the stack, so the int32 sums keep the registers.
        Span<Vector256<float>> sums = stackalloc Vector256<float>[8];
        sums.Clear();
        ref var f = ref MemoryMarshal.GetReference(sums);
        var step = 0;
        var ahead = 2 * layout.PaddedIn;
        for (var b = 0; b < blocks; b++)
        {
            Vector256<int> s00 = default, s01 = default, s02 = default, s03 = default;
            Vector256<int> s10 = default, s11 = default, s12 = default, s13 = default;
            for (var end = step + stepsPerBlock; step < end; step++)
            {
                var offset = (nuint)(step * Int8Matrix.Unit);
                // The next pair of rows, two rows ahead: the hardware prefetchers lose the stream at every 4 KiB page.
                Prefetch.Ahead(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref w0, offset)), ahead);
                Prefetch.Ahead(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref w1, offset)), ahead);
                var (v0, v1) = (Vector256.LoadUnsafe(ref w0, offset), Vector256.LoadUnsafe(ref w1, offset));
                var (m0, m1) = (Avx2.Abs(v0), Avx2.Abs(v1));
                var a = Vector256.LoadUnsafe(ref x0, offset);
                s00 += Product(m0, v0, a);
                s10 += Product(m1, v1, a);
                if (TRows.Count > 1)
                {
                    a = Vector256.LoadUnsafe(ref x1, offset);
                    s01 += Product(m0, v0, a);
                    s11 += Product(m1, v1, a);
                }
                if (TRows.Count > 2)
                {
                    a = Vector256.LoadUnsafe(ref x2, offset);
                    s02 += Product(m0, v0, a);
                    s12 += Product(m1, v1, a);
                    a = Vector256.LoadUnsafe(ref x3, offset);
                    s03 += Product(m0, v0, a);
                    s13 += Product(m1, v1, a);
                }
            }
            // Per channel (one group) the weight scale is applied once at the end; per group it joins the block scale.
            var g = layout.GroupOfBlock[b];
            var (sw0, sw1) = groups == 1 ? (1f, 1f) : (scales[g], scales[groups + g]);
            var sx = blockScales[n0 * blocks + b];
            Accumulate(ref f, 0, s00, sx * sw0);
            Accumulate(ref f, 4, s10, sx * sw1);
            if (TRows.Count > 1)
            {
                sx = blockScales[(n0 + 1) * blocks + b];
                Accumulate(ref f, 1, s01, sx * sw0);
                Accumulate(ref f, 5, s11, sx * sw1);
            }
            if (TRows.Count > 2)
            {
                sx = blockScales[(n0 + 2) * blocks + b];
                Accumulate(ref f, 2, s02, sx * sw0);
                Accumulate(ref f, 6, s12, sx * sw1);
                sx = blockScales[(n0 + 3) * blocks + b];
                Accumulate(ref f, 3, s03, sx * sw0);
                Accumulate(ref f, 7, s13, sx * sw1);
            }
        }
        var rowScales = groups == 1 ? (scales[0], scales[1]) : (1f, 1f);
        var mins = weight.Mins.AsSpan(o * groups, 2 * groups);
        var groupSums = x.GroupSums;
        var outFeatures = weight.OutFeatures;
        for (var n = 0; n < TRows.Count; n++)
        {
            var sumsOfRow = groupSums.Slice((n0 + n) * groups, groups);
            for (var r = 0; r < 2; r++)
            {
                var rowScale = r == 0 ? rowScales.Item1 : rowScales.Item2;
                y[(n0 + n) * outFeatures + o + r] = rowScale * Vector256.Sum(sums[4 * r + n]) - QuantizedMatMul.MinTerm(mins.Slice(r * groups, groups), sumsOfRow);
            }
        }
    }

    /// <summary><c>Σ w·x</c> over one step in int32 lanes: <c>|w| · sign(x, w)</c>, pairs, then quads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Product(Vector256<byte> magnitude, Vector256<sbyte> w, Vector256<sbyte> x) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(magnitude, Avx2.Sign(x, w)), Vector256.Create((short)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(ref Vector256<float> sums, int index, Vector256<int> block, float scale)
    {
        ref var sum = ref Unsafe.Add(ref sums, index);
        sum = Fma.MultiplyAdd(Vector256.ConvertToSingle(block), Vector256.Create(scale), sum);
    }
}
