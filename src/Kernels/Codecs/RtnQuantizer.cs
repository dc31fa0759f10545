namespace Optimizer.Kernels.Codecs;

/// <summary>
/// Round-to-nearest quantization of a row-major <c>[out, in]</c> weight matrix (ALGORITHMS.md 1.1).
/// </summary>
/// <remarks>
/// Asymmetric is the GPTQ variant: the range is widened to contain 0 so that 0 is exactly representable,
/// <c>s = (xmax - xmin) / maxq</c>, <c>z = round(-xmin / s)</c>. Symmetric is GPTQ style with unsigned codes:
/// <c>s = 2·max(|xmin|, xmax) / maxq</c>, <c>z = (maxq + 1) / 2</c>. Rounding is half to even (what
/// <c>torch.round</c> does) so that ties agree with the reference implementations. Arithmetic is float32 as in GPTQ.
/// Scales and zeros are laid out <c>[out, groups]</c>; codes <c>[out, in]</c>, one byte each.
/// </remarks>
public static class RtnQuantizer
{
    /// <summary>Scale and zero of one group of weights.</summary>
    public static (float Scale, int Zero) FindParams(ReadOnlySpan<float> group, int bits, bool symmetric)
    {
        var maxq = (1 << bits) - 1;
        var xmin = 0f;
        var xmax = 0f;
        foreach (var w in group)
        {
            xmin = MathF.Min(xmin, w);
            xmax = MathF.Max(xmax, w);
        }
        if (symmetric)
        {
            xmax = MathF.Max(-xmin, xmax);
            xmin = -xmax;
        }
        if (xmin == 0f && xmax == 0f)
        {
            // An all-zero group: any grid works; GPTQ picks [-1, 1] so the scale is never zero.
            xmin = -1f;
            xmax = 1f;
        }
        var scale = (xmax - xmin) / maxq;
        var zero = symmetric ? (maxq + 1) / 2 : (int)MathF.Round(-xmin / scale);
        return (scale, zero);
    }

    /// <summary>The code of one weight: <c>clamp(round(w / s) + z, 0, maxq)</c>.</summary>
    public static byte QuantizeValue(float w, float scale, int zero, int maxq) =>
        (byte)Math.Clamp((int)MathF.Round(w / scale) + zero, 0, maxq);

    /// <summary>Quantizes <paramref name="weight"/> <c>[out, in]</c> into codes, scales and zeros.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The spec does not fit the shape (see <see cref="RtnSpec.Validate"/>).</exception>
    /// <exception cref="ArgumentException">A span is not the length the shape requires.</exception>
    public static void Quantize(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, RtnSpec spec,
        Span<byte> codes, Span<float> scales, Span<int> zeros)
    {
        spec.Validate(inFeatures);
        var groupSize = spec.EffectiveGroupSize(inFeatures);
        var groups = spec.GroupCount(inFeatures);
        CheckLength(weight.Length, (long)outFeatures * inFeatures, nameof(weight));
        CheckLength(codes.Length, (long)outFeatures * inFeatures, nameof(codes));
        CheckLength(scales.Length, (long)outFeatures * groups, nameof(scales));
        CheckLength(zeros.Length, (long)outFeatures * groups, nameof(zeros));
        var maxq = spec.MaxQ;
        for (var o = 0; o < outFeatures; o++)
        {
            for (var g = 0; g < groups; g++)
            {
                var start = o * inFeatures + g * groupSize;
                var group = weight.Slice(start, groupSize);
                var (scale, zero) = FindParams(group, spec.Bits, spec.Symmetric);
                scales[o * groups + g] = scale;
                zeros[o * groups + g] = zero;
                var target = codes.Slice(start, groupSize);
                for (var i = 0; i < groupSize; i++)
                {
                    target[i] = QuantizeValue(group[i], scale, zero, maxq);
                }
            }
        }
    }

    /// <summary>Rebuilds <c>ŵ = s · (q − z)</c> into <paramref name="destination"/> <c>[out, in]</c>.</summary>
    /// <exception cref="ArgumentException">A span is not the length the shape requires.</exception>
    public static void Dequantize(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeros,
        int outFeatures, int inFeatures, int groupSize, Span<float> destination)
    {
        var size = groupSize == -1 ? inFeatures : groupSize;
        if (size <= 0 || inFeatures % size != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, "group size must be -1 or divide the input size.");
        }
        var groups = inFeatures / size;
        CheckLength(codes.Length, (long)outFeatures * inFeatures, nameof(codes));
        CheckLength(destination.Length, (long)outFeatures * inFeatures, nameof(destination));
        CheckLength(scales.Length, (long)outFeatures * groups, nameof(scales));
        CheckLength(zeros.Length, (long)outFeatures * groups, nameof(zeros));
        for (var o = 0; o < outFeatures; o++)
        {
            for (var i = 0; i < inFeatures; i++)
            {
                var g = o * groups + i / size;
                destination[o * inFeatures + i] = scales[g] * (codes[o * inFeatures + i] - zeros[g]);
            }
        }
    }

    internal static void CheckLength(int actual, long expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} elements; the shape needs {expected}.", name);
        }
    }
}
