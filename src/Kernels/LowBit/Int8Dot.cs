using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>Int8 row dot, reference.</summary>
internal readonly struct Int8DotScalar : IRowDot
{
    public static float Dot1(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout)
    {
        var signed = MemoryMarshal.Cast<byte, sbyte>(weights);
        var total = 0f;
        for (var b = 0; b < layout.Blocks; b++)
        {
            var sum = 0;
            for (var k = b * layout.BlockSize; k < (b + 1) * layout.BlockSize; k++)
            {
                sum += signed[k] * x[k];
            }
            total += blockScales[b] * groupScales[layout.GroupOfBlock[b]] * sum;
        }
        return total;
    }

    public static void Dot4(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results)
    {
        RowDotFallback.FourByOne<Int8DotScalar>(weights, x, blockScales, groupScales, layout, results);
    }
}

/// <summary>
/// Int8 row dot with AVX2. <c>vpmaddubsw</c> multiplies unsigned by signed bytes, so the weight's sign moves onto the
/// activation: <c>|w| · sign(x, w)</c> (llama.cpp's Q8_0 trick, with the roles swapped so that w = −128 stays exact:
/// |−128| = 128 as an unsigned byte, and |x| ≤ 127 never overflows the sign flip). Pairs reach 2·128·127 = 32512, below 32767.
/// </summary>
internal readonly struct Int8Dot256 : IRowDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step(Vector256<byte> magnitude, Vector256<sbyte> w, ref sbyte x, int step) =>
        Avx2.MultiplyAddAdjacent(
            Avx2.MultiplyAddAdjacent(magnitude, Avx2.Sign(Vector256.LoadUnsafe(ref x, (nuint)(step * 32)), w)),
            Vector256.Create((short)1));

    public static float Dot1(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout)
    {
        ref var codes = ref Unsafe.As<byte, sbyte>(ref MemoryMarshal.GetReference(weights));
        ref var activations = ref MemoryMarshal.GetReference(x);
        var stepsPerBlock = layout.BlockSize / Int8Matrix.Unit;
        var acc = Vector256<float>.Zero;
        var step = 0;
        for (var b = 0; b < layout.Blocks; b++)
        {
            var sum = Vector256<int>.Zero;
            for (var end = step + stepsPerBlock; step < end; step++)
            {
                // A prefetch per 32-byte step: every line is asked for twice, which costs less than a branch to skip one.
                Prefetch.Ahead(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref codes, step * 32)));
                var w = Vector256.LoadUnsafe(ref codes, (nuint)(step * 32));
                sum += Step(Avx2.Abs(w), w, ref activations, step);
            }
            acc = Fma.MultiplyAdd(Vector256.ConvertToSingle(sum), Vector256.Create(blockScales[b] * groupScales[layout.GroupOfBlock[b]]), acc);
        }
        return Vector256.Sum(acc);
    }

    public static void Dot4(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results)
    {
        ref var codes = ref Unsafe.As<byte, sbyte>(ref MemoryMarshal.GetReference(weights));
        ref var x0 = ref MemoryMarshal.GetReference(x);
        ref var x1 = ref Unsafe.Add(ref x0, layout.PaddedIn);
        ref var x2 = ref Unsafe.Add(ref x1, layout.PaddedIn);
        ref var x3 = ref Unsafe.Add(ref x2, layout.PaddedIn);
        var (blocks, stepsPerBlock) = (layout.Blocks, layout.BlockSize / Int8Matrix.Unit);
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        var step = 0;
        for (var b = 0; b < blocks; b++)
        {
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (var end = step + stepsPerBlock; step < end; step++)
            {
                var w = Vector256.LoadUnsafe(ref codes, (nuint)(step * 32));
                var magnitude = Avx2.Abs(w);
                s0 += Step(magnitude, w, ref x0, step);
                s1 += Step(magnitude, w, ref x1, step);
                s2 += Step(magnitude, w, ref x2, step);
                s3 += Step(magnitude, w, ref x3, step);
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

/// <summary>Int8 row dot with SSSE3 (same sign trick as <see cref="Int8Dot256"/>).</summary>
internal readonly struct Int8Dot128 : IRowDot
{
    public static float Dot1(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout)
    {
        ref var codes = ref Unsafe.As<byte, sbyte>(ref MemoryMarshal.GetReference(weights));
        ref var activations = ref MemoryMarshal.GetReference(x);
        var ones = Vector128.Create((short)1);
        var acc = Vector128<float>.Zero;
        for (var b = 0; b < layout.Blocks; b++)
        {
            var sum = Vector128<int>.Zero;
            for (var k = b * layout.BlockSize; k < (b + 1) * layout.BlockSize; k += 16)
            {
                var w = Vector128.LoadUnsafe(ref codes, (nuint)k);
                var a = Vector128.LoadUnsafe(ref activations, (nuint)k);
                sum += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(w), Ssse3.Sign(a, w)), ones);
            }
            acc += Vector128.ConvertToSingle(sum) * Vector128.Create(blockScales[b] * groupScales[layout.GroupOfBlock[b]]);
        }
        return Vector128.Sum(acc);
    }

    public static void Dot4(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results)
    {
        RowDotFallback.FourByOne<Int8Dot128>(weights, x, blockScales, groupScales, layout, results);
    }
}
