namespace Optimizer.Kernels.Codecs;

/// <summary>
/// The three tensors AutoAWQ GEMM checkpoints store for one linear <c>W [out, in]</c> (4-bit, asymmetric), flat row-major.
/// </summary>
/// <param name="OutFeatures">Rows of the original weight.</param>
/// <param name="InFeatures">Columns of the original weight.</param>
/// <param name="GroupSize">Input channels per group as configured (-1 = one group over the whole row).</param>
/// <param name="QWeight">int32 <c>[in, out/8]</c>: codes packed along the output dimension (<see cref="AwqPacking"/>).</param>
/// <param name="QZeros">int32 <c>[groups, out/8]</c>: the zero points (not minus one), packed the same way.</param>
/// <param name="Scales">float16 <c>[groups, out]</c>.</param>
public sealed record AwqLinear(int OutFeatures, int InFeatures, int GroupSize, int[] QWeight, int[] QZeros, Half[] Scales)
{
    public int Groups => Scales.Length / OutFeatures;
    public int EffectiveGroupSize => GroupSize == -1 ? InFeatures : GroupSize;

    /// <summary>True when a <c>[out, in]</c> weight fits the layout with this group size.</summary>
    public static bool Supports(int outFeatures, int inFeatures, int groupSize) =>
        outFeatures > 0 && inFeatures > 0 && outFeatures % AwqPacking.PerWord == 0
        && (groupSize == -1 || (groupSize > 0 && inFeatures % groupSize == 0));

    /// <summary>Packs 4-bit codes <c>[out, in]</c>, scales and zeros <c>[out, groups]</c> (the layout <see cref="RtnQuantizer"/> uses).</summary>
    /// <remarks>Scales are stored as their float16 rounding.</remarks>
    /// <exception cref="ArgumentException">The shape does not fit (<see cref="Supports"/>) or a span has the wrong length.</exception>
    public static AwqLinear Pack(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeros,
        int outFeatures, int inFeatures, int groupSize)
    {
        if (!Supports(outFeatures, inFeatures, groupSize))
        {
            throw new ArgumentException($"[{outFeatures}, {inFeatures}] with group size {groupSize} does not fit the AWQ GEMM layout.");
        }
        var size = groupSize == -1 ? inFeatures : groupSize;
        var groups = inFeatures / size;
        RtnQuantizer.CheckLength(codes.Length, (long)outFeatures * inFeatures, nameof(codes));
        RtnQuantizer.CheckLength(scales.Length, (long)outFeatures * groups, nameof(scales));
        RtnQuantizer.CheckLength(zeros.Length, (long)outFeatures * groups, nameof(zeros));
        var codesT = new int[codes.Length];
        for (var o = 0; o < outFeatures; o++)
        {
            for (var i = 0; i < inFeatures; i++)
            {
                codesT[i * outFeatures + o] = codes[o * inFeatures + i];
            }
        }
        var zerosT = new int[zeros.Length];
        var scalesT = new Half[scales.Length];
        for (var o = 0; o < outFeatures; o++)
        {
            for (var g = 0; g < groups; g++)
            {
                zerosT[g * outFeatures + o] = zeros[o * groups + g];
                scalesT[g * outFeatures + o] = (Half)scales[o * groups + g];
            }
        }
        var words = AwqPacking.WordsPerRow(outFeatures);
        var qweight = new int[inFeatures * words];
        AwqPacking.Pack(codesT, inFeatures, outFeatures, qweight);
        var qzeros = new int[groups * words];
        AwqPacking.Pack(zerosT, groups, outFeatures, qzeros);
        return new AwqLinear(outFeatures, inFeatures, groupSize, qweight, qzeros, scalesT);
    }

    /// <summary><c>w[o, i] = scale[i / g, o] · (q[i, o] − zero[i / g, o])</c>, written as <c>[out, in]</c> float32.</summary>
    public void Dequantize(Span<float> destination)
    {
        RtnQuantizer.CheckLength(destination.Length, (long)OutFeatures * InFeatures, nameof(destination));
        var codes = new int[InFeatures * OutFeatures];
        AwqPacking.Unpack(QWeight, InFeatures, OutFeatures, codes);
        var zeros = new int[Groups * OutFeatures];
        AwqPacking.Unpack(QZeros, Groups, OutFeatures, zeros);
        var size = EffectiveGroupSize;
        for (var i = 0; i < InFeatures; i++)
        {
            var g = i / size;
            for (var o = 0; o < OutFeatures; o++)
            {
                var k = g * OutFeatures + o;
                destination[o * InFeatures + i] = (float)Scales[k] * (codes[i * OutFeatures + o] - zeros[k]);
            }
        }
    }
}
