namespace Optimizer.Kernels.Codecs;

/// <summary>
/// The four tensors GPTQ checkpoints store for one linear <c>W [out, in]</c>, as flat row-major arrays.
/// </summary>
/// <param name="OutFeatures">Rows of the original weight.</param>
/// <param name="InFeatures">Columns of the original weight.</param>
/// <param name="Bits">Code width.</param>
/// <param name="GroupSize">Group size as configured (-1 = per channel).</param>
/// <param name="QWeight">int32 <c>[in·bits/32, out]</c>: codes packed along the input dimension.</param>
/// <param name="QZeros">int32 <c>[groups, out·bits/32]</c>: <c>zero − 1</c> packed along the output dimension.</param>
/// <param name="Scales">float16 <c>[groups, out]</c>.</param>
/// <param name="GIdx">int32 <c>[in]</c>: the group of each input channel (<c>i / group_size</c> without act-order).</param>
public sealed record GptqLinear(
    int OutFeatures,
    int InFeatures,
    int Bits,
    int GroupSize,
    int[] QWeight,
    int[] QZeros,
    Half[] Scales,
    int[] GIdx)
{
    public int Groups => Scales.Length / OutFeatures;
    public int QWeightRows => QWeight.Length / OutFeatures;
    public int QZerosColumns => QZeros.Length / Groups;

    /// <summary>True when a <c>[out, in]</c> weight can be written in this format with these settings.</summary>
    public static bool Supports(int outFeatures, int inFeatures, RtnSpec spec)
    {
        if (spec.Bits is < RtnSpec.MinBits or > RtnSpec.MaxBits || inFeatures <= 0 || outFeatures <= 0)
        {
            return false;
        }
        if (spec.GroupSize != -1 && (spec.GroupSize <= 0 || inFeatures % spec.GroupSize != 0))
        {
            return false;
        }
        return GptqPacking.CanPack(inFeatures, spec.Bits) && GptqPacking.CanPack(outFeatures, spec.Bits);
    }

    /// <summary>RTN-quantizes <paramref name="weight"/> <c>[out, in]</c> and packs it.</summary>
    /// <remarks>Codes are computed with the float32 scale; the stored scale is its float16 rounding, as GPTQ does.</remarks>
    public static GptqLinear Quantize(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, RtnSpec spec)
    {
        spec.Validate(inFeatures);
        var groups = spec.GroupCount(inFeatures);
        var groupSize = spec.EffectiveGroupSize(inFeatures);
        var codes = new byte[(long)outFeatures * inFeatures];
        var scales = new float[outFeatures * groups];
        var zeros = new int[outFeatures * groups];
        RtnQuantizer.Quantize(weight, outFeatures, inFeatures, spec, codes, scales, zeros);
        var gIdx = new int[inFeatures];
        for (var i = 0; i < inFeatures; i++)
        {
            gIdx[i] = i / groupSize;
        }
        return Pack(codes, scales, zeros, gIdx, outFeatures, inFeatures, spec);
    }

    /// <summary>
    /// Packs codes <c>[out, in]</c>, scales and zeros <c>[out, groups]</c> (row-major, as <see cref="RtnQuantizer"/> lays
    /// them out) and the group of each input channel (<paramref name="gIdx"/>, e.g. GPTQ's act-order groups).
    /// </summary>
    /// <remarks>Scales are stored as their float16 rounding, as GPTQ does.</remarks>
    /// <exception cref="ArgumentException">A span is not the length the shape requires, or a g_idx entry is outside the groups.</exception>
    public static GptqLinear Pack(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeros, int[] gIdx,
        int outFeatures, int inFeatures, RtnSpec spec)
    {
        ArgumentNullException.ThrowIfNull(gIdx);
        spec.Validate(inFeatures);
        var groups = spec.GroupCount(inFeatures);
        RtnQuantizer.CheckLength(codes.Length, (long)outFeatures * inFeatures, nameof(codes));
        RtnQuantizer.CheckLength(scales.Length, (long)outFeatures * groups, nameof(scales));
        RtnQuantizer.CheckLength(zeros.Length, (long)outFeatures * groups, nameof(zeros));
        RtnQuantizer.CheckLength(gIdx.Length, inFeatures, nameof(gIdx));
        if (gIdx.Any(g => (uint)g >= (uint)groups))
        {
            throw new ArgumentException($"g_idx entries must lie in [0, {groups}).", nameof(gIdx));
        }

        // Transpose to the checkpoint's [in, out] / [groups, out] orientation.
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
                // The format stores zero − 1 (readers add 1 back); masking keeps z = 0 representable.
                zerosT[g * outFeatures + o] = (zeros[o * groups + g] - 1) & spec.MaxQ;
                scalesT[g * outFeatures + o] = (Half)scales[o * groups + g];
            }
        }
        var qweight = new int[GptqPacking.PackedLength(inFeatures, spec.Bits) * outFeatures];
        GptqPacking.PackRows(codesT, inFeatures, outFeatures, spec.Bits, qweight);
        var qzeros = new int[groups * GptqPacking.PackedLength(outFeatures, spec.Bits)];
        GptqPacking.PackColumns(zerosT, groups, outFeatures, spec.Bits, qzeros);
        return new GptqLinear(outFeatures, inFeatures, spec.Bits, spec.GroupSize, qweight, qzeros, scalesT, (int[])gIdx.Clone());
    }

    /// <summary>Unpacked codes <c>[in, out]</c>.</summary>
    public int[] UnpackCodes()
    {
        var codes = new int[(long)InFeatures * OutFeatures];
        GptqPacking.UnpackRows(QWeight, InFeatures, OutFeatures, Bits, codes);
        return codes;
    }

    /// <summary>Unpacked zeros <c>[groups, out]</c> (the stored <c>zero − 1</c> plus one, modulo 2^bits).</summary>
    public int[] UnpackZeros()
    {
        var stored = new int[Groups * OutFeatures];
        GptqPacking.UnpackColumns(QZeros, Groups, OutFeatures, Bits, stored);
        var maxq = (1 << Bits) - 1;
        for (var k = 0; k < stored.Length; k++)
        {
            stored[k] = (stored[k] + 1) & maxq;
        }
        return stored;
    }

    /// <summary>
    /// <c>w[o, i] = scale[g_idx[i], o] · (q[i, o] − zero[g_idx[i], o])</c>, written as <c>[out, in]</c> float32.
    /// </summary>
    public void Dequantize(Span<float> destination)
    {
        RtnQuantizer.CheckLength(destination.Length, (long)OutFeatures * InFeatures, nameof(destination));
        var codes = UnpackCodes();
        var zeros = UnpackZeros();
        for (var i = 0; i < InFeatures; i++)
        {
            var g = GIdx[i];
            if ((uint)g >= (uint)Groups)
            {
                throw new InvalidDataException($"g_idx[{i}] = {g} is outside [0, {Groups}).");
            }
            for (var o = 0; o < OutFeatures; o++)
            {
                var k = g * OutFeatures + o;
                destination[o * InFeatures + i] = (float)Scales[k] * (codes[i * OutFeatures + o] - zeros[k]);
            }
        }
    }
}
