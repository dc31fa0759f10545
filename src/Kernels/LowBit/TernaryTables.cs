using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// Builds the ternary kernel's lookup tables from int8 activation codes: per step of four codes <c>c0..c3</c>, 16 entries
/// <c>128 + Σ_{u ∈ m} c_u</c> (see <see cref="QuantizedActivations.LookupTables"/>). Part of every timed call, so it is
/// vectorized: at batch 8 the scalar build cost as much as the lookups themselves.
/// </summary>
internal static class TernaryTables
{
    /// <summary>Steps <c>[from, to)</c> one entry at a time: the reference, and the tail of the vector build.</summary>
    public static void BuildScalar(ReadOnlySpan<sbyte> codes, Span<byte> tables, int from, int to)
    {
        for (var j = from; j < to; j++)
        {
            var step = codes.Slice(4 * j, 4);
            var table = tables.Slice(16 * j, 16);
            for (var m = 0; m < 16; m++)
            {
                var sum = 0;
                for (var u = 0; u < 4; u++)
                {
                    sum += (m >> u & 1) * step[u];
                }
                table[m] = (byte)(sum + 128);
            }
        }
    }

    /// <summary>AVX2: two steps per register (one per 128-bit lane); returns the steps built (all but an odd last one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Build256(ReadOnlySpan<sbyte> codes, Span<byte> tables, int steps)
    {
        var pairs = steps / 2;
        if (codes.Length < 8 * pairs || tables.Length < 32 * pairs)
        {
            throw new ArgumentException("the buffers are shorter than the steps.");
        }
        ref var source = ref MemoryMarshal.GetReference(codes);
        ref var destination = ref MemoryMarshal.GetReference(tables);
        // Broadcast code u of the lane's step (lane 0: bytes 0–3, lane 1: bytes 4–7) to all 16 bytes, then keep it in the
        // entries whose index has bit u.
        Vector256<byte> pick0 = Pick(0), pick1 = Pick(1), pick2 = Pick(2), pick3 = Pick(3);
        Vector256<byte> keep0 = Keep(0), keep1 = Keep(1), keep2 = Keep(2), keep3 = Keep(3);
        var offset = Vector256.Create((byte)128);
        for (var p = 0; p < pairs; p++)
        {
            var eight = Vector256.Create(Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref source, 8 * p)))).AsByte();
            var table = (Avx2.Shuffle(eight, pick0) & keep0) + (Avx2.Shuffle(eight, pick1) & keep1)
                + (Avx2.Shuffle(eight, pick2) & keep2) + (Avx2.Shuffle(eight, pick3) & keep3);
            (table + offset).StoreUnsafe(ref destination, (nuint)(32 * p));
        }
        return 2 * pairs;
    }

    private static Vector256<byte> Pick(int u) =>
        Vector256.Create(Vector128.Create((byte)u), Vector128.Create((byte)(4 + u)));

    private static Vector256<byte> Keep(int u)
    {
        Span<byte> mask = stackalloc byte[16];
        for (var m = 0; m < 16; m++)
        {
            mask[m] = (byte)((m >> u & 1) * 0xFF);
        }
        var lane = Vector128.Create<byte>(mask);
        return Vector256.Create(lane, lane);
    }
}
