namespace Optimizer.Kernels.Codecs;

/// <summary>
/// FP8 weight quantization of a row-major <c>[out, in]</c> matrix with one float32 scale per tensor or per output
/// channel (ALGORITHMS.md 1.6): <c>scale = absmax / FMT_MAX</c>, <c>code = cast_rne(w / scale)</c>, <c>ŵ = decode(code)·scale</c>.
/// </summary>
/// <remarks>
/// An all-zero tensor or row gets scale 1 so the scale is never zero (every code is then 0 anyway). The division
/// by the scale (not a multiplication by its inverse) keeps the absmax element on exactly ±FMT_MAX up to one
/// float32 rounding, which saturation absorbs.
/// </remarks>
public static class Fp8Quantizer
{
    /// <summary>Quantizes <paramref name="weight"/>; <paramref name="scales"/> has 1 entry (per tensor) or <paramref name="rows"/>.</summary>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="rows"/> × <paramref name="columns"/> or the scale count.</exception>
    public static void Quantize(ReadOnlySpan<float> weight, int rows, int columns, Fp8Format format, Span<byte> codes, Span<float> scales)
    {
        ComputeScales(weight, rows, columns, format, scales);
        Encode(weight, scales, rows, columns, format, codes);
    }

    /// <summary><c>absmax / FMT_MAX</c> of the whole tensor (1 scale) or of each row (<paramref name="rows"/> scales).</summary>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="rows"/> × <paramref name="columns"/> or the scale count.</exception>
    public static void ComputeScales(ReadOnlySpan<float> weight, int rows, int columns, Fp8Format format, Span<float> scales)
    {
        Check(weight.Length, weight.Length, scales.Length, rows, columns);
        var max = Fp8.MaxValue(format);
        if (scales.Length == 1)
        {
            scales[0] = ScaleOf(weight, max);
            return;
        }
        for (var r = 0; r < rows; r++)
        {
            scales[r] = ScaleOf(weight.Slice(r * columns, columns), max);
        }
    }

    /// <summary>Codes of <c>weight / scale</c> for scales from <see cref="ComputeScales"/>.</summary>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="rows"/> × <paramref name="columns"/> or the scale count.</exception>
    public static void Encode(ReadOnlySpan<float> weight, ReadOnlySpan<float> scales, int rows, int columns, Fp8Format format, Span<byte> codes)
    {
        Check(weight.Length, codes.Length, scales.Length, rows, columns);
        for (var r = 0; r < rows; r++)
        {
            var scale = scales.Length == 1 ? scales[0] : scales[r];
            var row = weight.Slice(r * columns, columns);
            var rowCodes = codes.Slice(r * columns, columns);
            for (var c = 0; c < columns; c++)
            {
                rowCodes[c] = Fp8.Encode(row[c] / scale, format);
            }
        }
    }

    /// <summary>Dense float32 weights from codes and their scales (1 per tensor or one per row).</summary>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="rows"/> × <paramref name="columns"/> or the scale count.</exception>
    public static void Dequantize(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, int rows, int columns, Fp8Format format, Span<float> destination)
    {
        Check(destination.Length, codes.Length, scales.Length, rows, columns);
        Fp8.Decode(codes, format, destination);
        for (var r = 0; r < rows; r++)
        {
            var scale = scales.Length == 1 ? scales[0] : scales[r];
            foreach (ref var value in destination.Slice(r * columns, columns))
            {
                value *= scale;
            }
        }
    }

    private static float ScaleOf(ReadOnlySpan<float> values, float max)
    {
        var absMax = 0f;
        foreach (var v in values)
        {
            absMax = MathF.Max(absMax, MathF.Abs(v));
        }
        return absMax > 0f ? absMax / max : 1f;
    }

    private static void Check(int weights, int codes, int scales, int rows, int columns)
    {
        var count = (long)rows * columns;
        if (weights != count || codes != count)
        {
            throw new ArgumentException($"expected {rows}x{columns} = {count} weights and codes, got {weights} and {codes}");
        }
        if (scales != 1 && scales != rows)
        {
            throw new ArgumentException($"expected 1 or {rows} scales, got {scales}");
        }
    }
}
