using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>Int8 row dot, reference.</summary>
internal readonly struct Int8DotScalar : IRowDot
{
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, ReadOnlySpan<int> groupOfBlock)
    {
        var weights = MemoryMarshal.Cast<byte, sbyte>(row);
        var total = 0f;
        for (var b = 0; b < blockScales.Length; b++)
        {
            var sum = 0;
            for (var j = b * 32; j < b * 32 + 32; j++)
            {
                sum += weights[j] * x[j];
            }
            total += blockScales[b] * groupScales[groupOfBlock[b]] * sum;
        }
        return total;
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
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, ReadOnlySpan<int> groupOfBlock)
    {
        ref var weights = ref Unsafe.As<byte, sbyte>(ref MemoryMarshal.GetReference(row));
        ref var activations = ref MemoryMarshal.GetReference(x);
        var ones = Vector256.Create((short)1);
        var acc = Vector256<float>.Zero;
        for (var b = 0; b < blockScales.Length; b++)
        {
            var w = Vector256.LoadUnsafe(ref weights, (nuint)(b * 32));
            var a = Vector256.LoadUnsafe(ref activations, (nuint)(b * 32));
            var products = Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(a, w));
            var dot = Avx2.MultiplyAddAdjacent(products, ones);
            acc = Fma.MultiplyAdd(Vector256.ConvertToSingle(dot), Vector256.Create(blockScales[b] * groupScales[groupOfBlock[b]]), acc);
        }
        return Vector256.Sum(acc);
    }
}

/// <summary>Int8 row dot with SSSE3 (same sign trick as <see cref="Int8Dot256"/>).</summary>
internal readonly struct Int8Dot128 : IRowDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, ReadOnlySpan<int> groupOfBlock)
    {
        ref var weights = ref Unsafe.As<byte, sbyte>(ref MemoryMarshal.GetReference(row));
        ref var activations = ref MemoryMarshal.GetReference(x);
        var ones = Vector128.Create((short)1);
        var acc = Vector128<float>.Zero;
        for (var b = 0; b < blockScales.Length; b++)
        {
            var dot = Vector128<int>.Zero;
            for (var half = 0; half < 32; half += 16)
            {
                var w = Vector128.LoadUnsafe(ref weights, (nuint)(b * 32 + half));
                var a = Vector128.LoadUnsafe(ref activations, (nuint)(b * 32 + half));
                dot += Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(Ssse3.Abs(w), Ssse3.Sign(a, w)), ones);
            }
            acc += Vector128.ConvertToSingle(dot) * Vector128.Create(blockScales[b] * groupScales[groupOfBlock[b]]);
        }
        return Vector128.Sum(acc);
    }
}
