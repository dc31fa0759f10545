using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// An 8-bit weight <c>W [out, in]</c>, <c>w = s·(q − z)</c> with RTN's unsigned codes, per channel (default) or per group,
/// stored for the integer-dot kernels as signed bytes <c>q − 128</c> with the zero shifted alike.
/// </summary>
/// <remarks>Rows are <c>PaddedIn</c> bytes (whole activation blocks, zero padded); mins are <c>s·(z − 128)</c>.</remarks>
public sealed class Int8Matrix
{
    /// <summary>Inputs per kernel step: one AVX2 register of int8.</summary>
    public const int Unit = 32;

    private Int8Matrix(int outFeatures, BlockLayout layout, byte[] codes, float[] scales, float[] mins)
    {
        OutFeatures = outFeatures;
        Layout = layout;
        Codes = codes;
        Scales = scales;
        Mins = mins;
    }

    public int OutFeatures { get; }

    public BlockLayout Layout { get; }

    /// <summary>Signed codes <c>[out, PaddedIn]</c>, as bytes (the kernels reinterpret them; see <see cref="CodeAt"/>).</summary>
    public byte[] Codes { get; }

    /// <summary>The signed stored code of row <paramref name="o"/>, input <paramref name="i"/>.</summary>
    public int CodeAt(int o, int i) => (sbyte)Codes[(long)o * Layout.PaddedIn + i];

    /// <summary>Scales <c>[out, groups]</c>.</summary>
    public float[] Scales { get; }

    /// <summary><c>s·(z − 128)</c> per <c>[out, groups]</c>.</summary>
    public float[] Mins { get; }

    /// <summary>Bytes the kernels stream per product (codes, scales, mins).</summary>
    public long WeightBytes => Codes.LongLength + 4L * (Scales.Length + Mins.Length);

    /// <summary>Packs RTN codes <c>[out, in]</c> (0..255) with scales and zeros <c>[out, groups]</c>.</summary>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    public static Int8Matrix Pack(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeros,
        int outFeatures, int inFeatures, int groupSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        var layout = new BlockLayout(inFeatures, groupSize, Unit);
        RtnQuantizer.CheckLength(codes.Length, (long)outFeatures * inFeatures, nameof(codes));
        RtnQuantizer.CheckLength(scales.Length, (long)outFeatures * layout.Groups, nameof(scales));
        RtnQuantizer.CheckLength(zeros.Length, (long)outFeatures * layout.Groups, nameof(zeros));
        var stored = new byte[(long)outFeatures * layout.PaddedIn];
        for (var o = 0; o < outFeatures; o++)
        {
            for (var i = 0; i < inFeatures; i++)
            {
                stored[(long)o * layout.PaddedIn + i] = (byte)(sbyte)(codes[o * inFeatures + i] - 128);
            }
        }
        var mins = new float[scales.Length];
        for (var k = 0; k < mins.Length; k++)
        {
            mins[k] = scales[k] * (zeros[k] - 128);
        }
        return new Int8Matrix(outFeatures, layout, stored, scales.ToArray(), mins);
    }

    /// <summary>Repacks an 8-bit GPTQ checkpoint linear (the <c>rtn</c> method's 8-bit output) whose groups are contiguous.</summary>
    /// <exception cref="ArgumentException">The linear is not 8-bit, or its g_idx is act-order (this kernel keeps the natural input order).</exception>
    public static Int8Matrix FromGptq(GptqLinear linear)
    {
        ArgumentNullException.ThrowIfNull(linear);
        if (linear.Bits != 8)
        {
            throw new ArgumentException($"the int8 kernel needs 8-bit weights, not {linear.Bits}-bit.", nameof(linear));
        }
        var (o, i, g) = (linear.OutFeatures, linear.InFeatures, linear.Groups);
        var groupSize = linear.GroupSize == -1 ? -1 : i / g;
        for (var k = 0; k < i; k++)
        {
            if (linear.GIdx[k] != (groupSize == -1 ? 0 : k / groupSize))
            {
                throw new ArgumentException("the int8 kernel needs contiguous groups; this g_idx is act-order.", nameof(linear));
            }
        }
        var (codes, scales, zeros) = CheckpointLayout.ToRowMajor(linear.UnpackCodes(), linear.Scales, linear.UnpackZeros(), o, i, g);
        return Pack(codes, scales, zeros, o, i, groupSize);
    }

    /// <summary>RTN-quantizes an fp32 weight <c>[out, in]</c> to 8 bits and packs it.</summary>
    public static Int8Matrix Quantize(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, int groupSize = -1)
    {
        var spec = new RtnSpec(8, groupSize, Symmetric: false);
        spec.Validate(inFeatures);
        var groups = spec.GroupCount(inFeatures);
        var codes = new byte[(long)outFeatures * inFeatures];
        var scales = new float[outFeatures * groups];
        var zeros = new int[outFeatures * groups];
        RtnQuantizer.Quantize(weight, outFeatures, inFeatures, spec, codes, scales, zeros);
        return Pack(codes, scales, zeros, outFeatures, inFeatures, groupSize);
    }

    /// <summary>The fp32 weight <c>[out, in]</c>: the reference the kernels are checked against.</summary>
    public float[] Dequantize()
    {
        var layout = Layout;
        var weight = new float[(long)OutFeatures * layout.InFeatures];
        for (var o = 0; o < OutFeatures; o++)
        {
            for (var i = 0; i < layout.InFeatures; i++)
            {
                var g = layout.GroupOfBlock[i / layout.BlockSize];
                weight[o * layout.InFeatures + i] = Scales[o * layout.Groups + g] * CodeAt(o, i) - Mins[o * layout.Groups + g];
            }
        }
        return weight;
    }
}
