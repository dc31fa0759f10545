using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// An FP8 E4M3 weight <c>W [out, in]</c>, <c>w = scale · e4m3(code)</c> with one scale per tensor or per row (the <c>fp8</c>
/// method's output), rows padded with zero codes to a multiple of <see cref="Unit"/>.
/// </summary>
public sealed class Fp8Matrix
{
    /// <summary>Inputs per kernel step (one AVX2 register of fp32).</summary>
    public const int Unit = 8;

    private Fp8Matrix(int outFeatures, int inFeatures, int paddedIn, byte[] codes, float[] rowScales)
    {
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        PaddedIn = paddedIn;
        Codes = codes;
        RowScales = rowScales;
    }

    public int OutFeatures { get; }

    public int InFeatures { get; }

    /// <summary>Row length in codes (zero padded).</summary>
    public int PaddedIn { get; }

    /// <summary>E4M3 codes <c>[out, PaddedIn]</c>.</summary>
    public byte[] Codes { get; }

    /// <summary>One scale per row (a per-tensor scale repeated).</summary>
    public float[] RowScales { get; }

    /// <summary>Bytes the kernels stream per product.</summary>
    public long WeightBytes => Codes.LongLength + 4L * RowScales.Length;

    /// <summary>Packs E4M3 codes <c>[out, in]</c> with 1 (per tensor) or <paramref name="outFeatures"/> scales.</summary>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    public static Fp8Matrix Pack(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, int outFeatures, int inFeatures)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        RtnQuantizer.CheckLength(codes.Length, (long)outFeatures * inFeatures, nameof(codes));
        if (scales.Length != 1 && scales.Length != outFeatures)
        {
            throw new ArgumentException($"scales has {scales.Length} entries; 1 or {outFeatures} expected.", nameof(scales));
        }
        var paddedIn = (inFeatures + Unit - 1) / Unit * Unit;
        var stored = new byte[(long)outFeatures * paddedIn];
        var rowScales = new float[outFeatures];
        for (var o = 0; o < outFeatures; o++)
        {
            codes.Slice(o * inFeatures, inFeatures).CopyTo(stored.AsSpan(o * paddedIn, inFeatures));
            rowScales[o] = scales[scales.Length == 1 ? 0 : o];
        }
        return new Fp8Matrix(outFeatures, inFeatures, paddedIn, stored, rowScales);
    }

    /// <summary>Quantizes an fp32 weight <c>[out, in]</c> to E4M3 with per-row (default) or per-tensor scales and packs it.</summary>
    public static Fp8Matrix Quantize(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, bool perRow = true)
    {
        var codes = new byte[(long)outFeatures * inFeatures];
        var scales = new float[perRow ? outFeatures : 1];
        Fp8Quantizer.Quantize(weight, outFeatures, inFeatures, Fp8Format.E4M3, codes, scales);
        return Pack(codes, scales, outFeatures, inFeatures);
    }

    /// <summary>The fp32 weight <c>[out, in]</c>: the reference the kernels are checked against.</summary>
    public float[] Dequantize()
    {
        var weight = new float[(long)OutFeatures * InFeatures];
        for (var o = 0; o < OutFeatures; o++)
        {
            for (var i = 0; i < InFeatures; i++)
            {
                weight[o * InFeatures + i] = RowScales[o] * Fp8.Decode(Codes[(long)o * PaddedIn + i], Fp8Format.E4M3);
            }
        }
        return weight;
    }
}
