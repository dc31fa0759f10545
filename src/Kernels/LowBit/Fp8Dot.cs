using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// FP8 E4M3 row dots with fp32 activations (no activation quantization: the product is the dequantized one up to float
/// rounding). Decoding needs no table: sign-extend the byte to int32, shift left 20 and mask <c>0x87F00000</c>, which puts
/// the sign in bit 31 and exponent+mantissa at the top of the float's exponent and mantissa; as a float that is the value
/// times 2^-120 — for subnormal codes too, where it lands on an fp32 subnormal — so one multiply by 2^120 finishes it.
/// NaN codes (never written by the quantizer) would decode as ±480.
/// </summary>
internal static class Fp8Dot
{
    private const int Mask = unchecked((int)0x87F00000);
    private const float Rebias = 1.329228e36f; // 2^120

    /// <summary>Reference: the codec's exact table.</summary>
    public static float Scalar(ReadOnlySpan<byte> codes, ReadOnlySpan<float> x)
    {
        var sum = 0f;
        for (var k = 0; k < x.Length; k++)
        {
            sum += Fp8.Decode(codes[k], Fp8Format.E4M3) * x[k];
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Decode256(ref byte codes, int k)
    {
        var bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref codes, k))).AsSByte();
        var bits = Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(bytes), 20) & Vector256.Create(Mask);
        return bits.AsSingle() * Vector256.Create(Rebias);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot256(ReadOnlySpan<byte> codes, ReadOnlySpan<float> x)
    {
        ref var c = ref MemoryMarshal.GetReference(codes);
        ref var a = ref MemoryMarshal.GetReference(x);
        var acc = Vector256<float>.Zero;
        var k = 0;
        for (; k + 8 <= x.Length; k += 8)
        {
            acc = Fma.MultiplyAdd(Decode256(ref c, k), Vector256.LoadUnsafe(ref a, (nuint)k), acc);
        }
        // Scalar tail: the activation row is not padded (fp32 input as given).
        return Vector256.Sum(acc) + Scalar(codes[k..], x[k..]);
    }

    /// <summary>Four activation rows (stride <paramref name="stride"/>) share each decoded step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot256x4(ReadOnlySpan<byte> codes, ReadOnlySpan<float> x, int length, int stride, Span<float> results)
    {
        ref var c = ref MemoryMarshal.GetReference(codes);
        ref var x0 = ref MemoryMarshal.GetReference(x);
        ref var x1 = ref Unsafe.Add(ref x0, stride);
        ref var x2 = ref Unsafe.Add(ref x1, stride);
        ref var x3 = ref Unsafe.Add(ref x2, stride);
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        var k = 0;
        for (; k + 8 <= length; k += 8)
        {
            var w = Decode256(ref c, k);
            acc0 = Fma.MultiplyAdd(w, Vector256.LoadUnsafe(ref x0, (nuint)k), acc0);
            acc1 = Fma.MultiplyAdd(w, Vector256.LoadUnsafe(ref x1, (nuint)k), acc1);
            acc2 = Fma.MultiplyAdd(w, Vector256.LoadUnsafe(ref x2, (nuint)k), acc2);
            acc3 = Fma.MultiplyAdd(w, Vector256.LoadUnsafe(ref x3, (nuint)k), acc3);
        }
        results[0] = Vector256.Sum(acc0) + Scalar(codes[k..length], x.Slice(k, length - k));
        results[1] = Vector256.Sum(acc1) + Scalar(codes[k..length], x.Slice(stride + k, length - k));
        results[2] = Vector256.Sum(acc2) + Scalar(codes[k..length], x.Slice(2 * stride + k, length - k));
        results[3] = Vector256.Sum(acc3) + Scalar(codes[k..length], x.Slice(3 * stride + k, length - k));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot128(ReadOnlySpan<byte> codes, ReadOnlySpan<float> x)
    {
        ref var c = ref MemoryMarshal.GetReference(codes);
        ref var a = ref MemoryMarshal.GetReference(x);
        var acc = Vector128<float>.Zero;
        var k = 0;
        for (; k + 4 <= x.Length; k += 4)
        {
            var bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref c, k))).AsSByte();
            var widened = Vector128.WidenLower(Vector128.WidenLower(bytes));
            var w = Vector128.ShiftLeft(widened, 20) & Vector128.Create(Mask);
            acc += w.AsSingle() * Vector128.Create(Rebias) * Vector128.LoadUnsafe(ref a, (nuint)k);
        }
        return Vector128.Sum(acc) + Scalar(codes[k..], x[k..]);
    }
}
