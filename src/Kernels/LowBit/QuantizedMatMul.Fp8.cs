using System.Runtime.CompilerServices;

namespace Optimizer.Kernels.LowBit;

public static partial class QuantizedMatMul
{
    /// <summary>
    /// <c>y [batch, out] = x · Wᵀ</c> for an FP8 E4M3 matrix, with the fp32 activations as given (no activation
    /// quantization: the result is the dequantized product up to float rounding).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> or <paramref name="y"/> has the wrong length.</exception>
    public static unsafe void Fp8(Fp8Matrix weight, ReadOnlySpan<float> x, int batch, Span<float> y,
        KernelWidth width = (KernelWidth)(-1), CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        if (x.Length != (long)batch * weight.InFeatures)
        {
            throw new ArgumentException($"x has {x.Length} values; [batch {batch}, in {weight.InFeatures}] needs {(long)batch * weight.InFeatures}.", nameof(x));
        }
        if (y.Length != (long)batch * weight.OutFeatures)
        {
            throw new ArgumentException($"y has {y.Length} values; [batch {batch}, out {weight.OutFeatures}] needs {(long)batch * weight.OutFeatures}.", nameof(y));
        }
        var resolved = Resolve(width);
        fixed (float* input = x)
        fixed (float* output = y)
        {
            // Pointers cross into the lambda because spans cannot; the fixed blocks outlive the call.
            var (xPointer, yPointer, xLength, yLength) = ((nint)input, (nint)output, x.Length, y.Length);
            RowParallel.For(weight.OutFeatures, (long)weight.OutFeatures * weight.InFeatures * batch, cancellationToken,
                (start, end) => Fp8Rows(weight, new ReadOnlySpan<float>((void*)xPointer, xLength), batch,
                    new Span<float>((void*)yPointer, yLength), resolved, start, end));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fp8Rows(Fp8Matrix weight, ReadOnlySpan<float> x, int batch, Span<float> y, KernelWidth width, int start, int end)
    {
        var (inFeatures, outFeatures) = (weight.InFeatures, weight.OutFeatures);
        Span<float> four = stackalloc float[4];
        for (var o = start; o < end; o++)
        {
            var row = weight.Codes.AsSpan(o * weight.PaddedIn, inFeatures);
            var scale = weight.RowScales[o];
            var n = 0;
            if (width == KernelWidth.Vector256)
            {
                for (; n + 4 <= batch; n += 4)
                {
                    Fp8Dot.Dot256x4(row, x.Slice(n * inFeatures), inFeatures, inFeatures, four);
                    for (var r = 0; r < 4; r++)
                    {
                        y[(n + r) * outFeatures + o] = scale * four[r];
                    }
                }
            }
            for (; n < batch; n++)
            {
                var xRow = x.Slice(n * inFeatures, inFeatures);
                var dot = width switch
                {
                    KernelWidth.Vector256 => Fp8Dot.Dot256(row, xRow),
                    KernelWidth.Vector128 => Fp8Dot.Dot128(row, xRow),
                    _ => Fp8Dot.Scalar(row, xRow),
                };
                y[n * outFeatures + o] = scale * dot;
            }
        }
    }
}
