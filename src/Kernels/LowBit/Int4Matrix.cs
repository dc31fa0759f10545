using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// A 4-bit group-wise asymmetric weight <c>W [out, in]</c>, <c>w = s·(q − z)</c>, repacked for the integer-dot kernels.
/// </summary>
/// <remarks>
/// Codes are in the <see cref="NibblePacking"/> layout. Zero points are kept as bytes (a fifth less scale traffic than
/// an fp32 min per group) and the kernels take <c>s·z</c> — the same float the fp32 min held — as one dot of length
/// <c>groups</c> per row instead of work per weight.
/// </remarks>
public sealed class Int4Matrix
{
    private Int4Matrix(int outFeatures, BlockLayout layout, byte[] codes, float[] scales, byte[] zeros)
    {
        OutFeatures = outFeatures;
        Layout = layout;
        Codes = codes;
        Scales = scales;
        Zeros = zeros;
    }

    public int OutFeatures { get; }

    public BlockLayout Layout { get; }

    /// <summary>Packed nibbles <c>[out, PaddedIn / 2]</c>.</summary>
    public byte[] Codes { get; }

    /// <summary>Scales <c>[out, groups]</c>.</summary>
    public float[] Scales { get; }

    /// <summary>Zero points <c>z</c> per <c>[out, groups]</c> (the min is <c>s·z</c>).</summary>
    public byte[] Zeros { get; }

    /// <summary>Bytes the kernels stream per product (codes, scales, zero points).</summary>
    public long WeightBytes => Codes.LongLength + 4L * Scales.Length + Zeros.LongLength;

    /// <summary>
    /// Packs codes <c>[out, in]</c> (0..15), scales and zeros <c>[out, groups]</c>, and the group of each input
    /// (<paramref name="gIdx"/>; null = <c>i / groupSize</c>). Act-order g_idx is stored as an input permutation.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match the shape, a code exceeds 15, a zero point lies outside 0..255, or a group of g_idx does not have groupSize members.</exception>
    public static Int4Matrix Pack(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeros, int[]? gIdx,
        int outFeatures, int inFeatures, int groupSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        var permutation = ActOrder.Permutation(gIdx, inFeatures, groupSize);
        var layout = new BlockLayout(inFeatures, groupSize, NibblePacking.Unit, permutation, NibblePacking.ChunkInputs);
        RtnQuantizer.CheckLength(codes.Length, (long)outFeatures * inFeatures, nameof(codes));
        RtnQuantizer.CheckLength(scales.Length, (long)outFeatures * layout.Groups, nameof(scales));
        RtnQuantizer.CheckLength(zeros.Length, (long)outFeatures * layout.Groups, nameof(zeros));
        var packed = NibblePacking.Pack(codes, outFeatures, layout);
        var zeroBytes = new byte[zeros.Length];
        for (var k = 0; k < zeroBytes.Length; k++)
        {
            if (zeros[k] is < 0 or > 255)
            {
                throw new ArgumentException($"zero point {zeros[k]} at {k} does not fit a byte.", nameof(zeros));
            }
            zeroBytes[k] = (byte)zeros[k];
        }
        return new Int4Matrix(outFeatures, layout, packed, scales.ToArray(), zeroBytes);
    }

    /// <summary>Repacks a 4-bit GPTQ checkpoint linear (any g_idx, including act-order).</summary>
    /// <exception cref="ArgumentException">The linear is not 4-bit.</exception>
    public static Int4Matrix FromGptq(GptqLinear linear)
    {
        ArgumentNullException.ThrowIfNull(linear);
        if (linear.Bits != 4)
        {
            throw new ArgumentException($"the int4 kernel needs 4-bit weights, not {linear.Bits}-bit.", nameof(linear));
        }
        var (o, i, g) = (linear.OutFeatures, linear.InFeatures, linear.Groups);
        var (codes, scales, zeros) = CheckpointLayout.ToRowMajor(linear.UnpackCodes(), linear.Scales, linear.UnpackZeros(), o, i, g);
        return Pack(codes, scales, zeros, linear.GIdx, o, i, linear.GroupSize == -1 ? -1 : i / g);
    }

    /// <summary>Repacks a 4-bit AutoAWQ GEMM checkpoint linear (no act-order: groups are contiguous).</summary>
    public static Int4Matrix FromAwq(AwqLinear linear)
    {
        ArgumentNullException.ThrowIfNull(linear);
        var (o, i, g) = (linear.OutFeatures, linear.InFeatures, linear.Groups);
        var codesT = new int[(long)i * o];
        AwqPacking.Unpack(linear.QWeight, i, o, codesT);
        var zerosT = new int[g * o];
        AwqPacking.Unpack(linear.QZeros, g, o, zerosT);
        var (codes, scales, zeros) = CheckpointLayout.ToRowMajor(codesT, linear.Scales, zerosT, o, i, g);
        return Pack(codes, scales, zeros, null, o, i, linear.GroupSize == -1 ? -1 : linear.GroupSize);
    }

    /// <summary>The stored code of row <paramref name="o"/>, stored input <paramref name="k"/> (padding reads 0).</summary>
    public int CodeAt(int o, int k) => NibblePacking.CodeAt(Codes.AsSpan((int)((long)o * (Layout.PaddedIn / 2)), Layout.PaddedIn / 2), k);

    /// <summary>The fp32 weight <c>[out, in]</c> in the original input order: the reference the kernels are checked against.</summary>
    public float[] Dequantize()
    {
        var layout = Layout;
        var weight = new float[(long)OutFeatures * layout.InFeatures];
        for (var o = 0; o < OutFeatures; o++)
        {
            for (var k = 0; k < layout.InFeatures; k++)
            {
                var g = layout.GroupOfBlock[k / layout.BlockSize];
                var i = layout.Permutation is null ? k : layout.Permutation[k];
                weight[o * layout.InFeatures + i] = Scales[o * layout.Groups + g] * CodeAt(o, k) - Scales[o * layout.Groups + g] * Zeros[o * layout.Groups + g];
            }
        }
        return weight;
    }
}
