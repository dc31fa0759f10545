using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// A ternary weight of one or two trit planes — <c>w = a1·t1</c> (BitNet-style) or <c>w = a1·t1 + a2·t2</c> (PTQTP,
/// ALGORITHMS.md 1.7), <c>t ∈ {−1, 0, 1}</c>, one scale per plane, row and group — laid out for the T-MAC-style lookup
/// kernel (ALGORITHMS.md 6.1).
/// </summary>
/// <remarks>
/// Each trit plane is two bit planes, <c>t = b⁺ − b⁻</c>; four inputs of one bit plane form a 4-bit index into a 16-entry
/// table of partial activation sums. Rows are tiled by 8 and inputs by 16 (a quad of four lookup steps); per tile, quad and
/// trit plane 32 bytes hold the 64 indices of 8 rows × 4 steps × (b⁺, b⁻), arranged for one AVX2 register: byte
/// <c>16·L + 2·r + s</c> holds row <c>r</c>'s index of sign <c>s</c> (0 = b⁺, 1 = b⁻) for step <c>L</c> of the quad in
/// its low nibble and for step <c>L + 2</c> in its high nibble. So one <c>pshufb</c> on the low nibbles looks up steps 0
/// and 1 (one table per 128-bit lane), and one <c>vpmaddubsw</c> by (1, −1) subtracts each row's b⁻ entry from its b⁺
/// entry and widens to int16 (2 bits per weight per plane; the packed checkpoint keeps 1.6). Scales are
/// <c>[tile, group, plane, 8]</c> so one tile's scales for a group are one vector load per plane. Padding rows have zero trits.
/// </remarks>
public sealed class TernaryMatrix
{
    /// <summary>Rows per tile: 8 rows × (b⁺, b⁻) fill a 128-bit lane of indices.</summary>
    public const int TileRows = 8;

    /// <summary>Inputs per table lookup.</summary>
    public const int LookupInputs = 4;

    /// <summary>Inputs per quad: four lookup steps, the low and high nibbles of both 128-bit lanes.</summary>
    public const int QuadInputs = 16;

    /// <summary>Bytes of one tile's indices per quad and plane: one AVX2 register.</summary>
    public const int QuadPlaneBytes = 32;

    private TernaryMatrix(int outFeatures, int planes, BlockLayout layout, byte[] codes, float[] scales)
    {
        OutFeatures = outFeatures;
        Planes = planes;
        Layout = layout;
        Codes = codes;
        Scales = scales;
    }

    public int OutFeatures { get; }

    public BlockLayout Layout { get; }

    public int Tiles => (OutFeatures + TileRows - 1) / TileRows;

    /// <summary>Trit planes: 1 or 2.</summary>
    public int Planes { get; }

    /// <summary>Bytes per tile per quad of 16 inputs: 32 per plane.</summary>
    public int QuadBytes => Planes * QuadPlaneBytes;

    /// <summary>Indices <c>[tile, PaddedIn / 16, plane, 32]</c> (see the remarks for the byte order).</summary>
    public byte[] Codes { get; }

    /// <summary>Plane scales <c>[tile, group, plane, 32]</c>.</summary>
    public float[] Scales { get; }

    /// <summary>Bytes the kernel streams per product.</summary>
    public long WeightBytes => Codes.LongLength + 4L * Scales.Length;

    /// <summary>
    /// Packs trit planes <c>[out, in]</c> and their scales <c>[out, groups, planes]</c> (PTQTP's layout); an empty
    /// <paramref name="t2"/> means one plane.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match the shape, or a trit is outside {−1, 0, 1}.</exception>
    public static TernaryMatrix Pack(ReadOnlySpan<sbyte> t1, ReadOnlySpan<sbyte> t2, ReadOnlySpan<float> alphas,
        int outFeatures, int inFeatures, int groupSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        // Whole quads; a block that is not a whole number of quads (groups of 4 or 8) runs the scalar kernel.
        var layout = new BlockLayout(inFeatures, groupSize, LookupInputs, padTo: QuadInputs);
        var planes = t2.IsEmpty ? 1 : 2;
        RtnQuantizer.CheckLength(t1.Length, (long)outFeatures * inFeatures, nameof(t1));
        if (planes == 2)
        {
            RtnQuantizer.CheckLength(t2.Length, (long)outFeatures * inFeatures, nameof(t2));
        }
        RtnQuantizer.CheckLength(alphas.Length, (long)outFeatures * layout.Groups * planes, nameof(alphas));
        var tiles = (outFeatures + TileRows - 1) / TileRows;
        var quads = layout.PaddedIn / QuadInputs;
        var quadBytes = planes * QuadPlaneBytes;
        var codes = new byte[(long)tiles * quads * quadBytes];
        var scales = new float[tiles * layout.Groups * planes * TileRows];
        for (var o = 0; o < outFeatures; o++)
        {
            var (tile, lane) = (o / TileRows, o % TileRows);
            for (var i = 0; i < inFeatures; i++)
            {
                for (var plane = 0; plane < planes; plane++)
                {
                    var trit = (plane == 0 ? t1 : t2)[o * inFeatures + i];
                    if (trit is < -1 or > 1)
                    {
                        throw new ArgumentException($"trit {trit} at [{o}, {i}] is not -1, 0 or 1.", plane == 0 ? nameof(t1) : nameof(t2));
                    }
                    if (trit != 0)
                    {
                        var (index, shift) = IndexBit(tile, quads, quadBytes, plane, lane, i, minus: trit < 0);
                        codes[index] |= (byte)(1 << shift);
                    }
                }
            }
            for (var g = 0; g < layout.Groups; g++)
            {
                for (var plane = 0; plane < planes; plane++)
                {
                    scales[((tile * layout.Groups + g) * planes + plane) * TileRows + lane] = alphas[(o * layout.Groups + g) * planes + plane];
                }
            }
        }
        return new TernaryMatrix(outFeatures, planes, layout, codes, scales);
    }

    /// <summary>Where the bit of row <paramref name="lane"/> of <paramref name="tile"/>, input <paramref name="i"/>, sign b⁺ or b⁻ lives (see the remarks).</summary>
    private static (long Index, int Shift) IndexBit(int tile, int quads, int quadBytes, int plane, int lane, int i, bool minus)
    {
        var (quad, step, bit) = (i / QuadInputs, i % QuadInputs / LookupInputs, i % LookupInputs);
        var offset = 16 * (step & 1) + 2 * lane + (minus ? 1 : 0);
        return (((long)tile * quads + quad) * quadBytes + plane * QuadPlaneBytes + offset, 4 * (step >> 1) + bit);
    }

    /// <summary>Repacks the <c>ptqtp</c> method's output: both planes packed five trits a byte per row, scales <c>[out, groups, 2]</c>.</summary>
    public static TernaryMatrix FromPtqtp(ReadOnlySpan<byte> plane1, ReadOnlySpan<byte> plane2, ReadOnlySpan<float> alphas,
        int outFeatures, int inFeatures, int groupSize)
    {
        var t1 = new sbyte[(long)outFeatures * inFeatures];
        var t2 = new sbyte[t1.Length];
        var rowBytes = TritPacking.PackedLength(inFeatures);
        for (var o = 0; o < outFeatures; o++)
        {
            TritPacking.Unpack(plane1.Slice(o * rowBytes, rowBytes), t1.AsSpan(o * inFeatures, inFeatures));
            TritPacking.Unpack(plane2.Slice(o * rowBytes, rowBytes), t2.AsSpan(o * inFeatures, inFeatures));
        }
        return Pack(t1, t2, alphas, outFeatures, inFeatures, groupSize);
    }

    /// <summary>The trit of <paramref name="plane"/> (0 or 1; 0 for a missing second plane) at row <paramref name="o"/>, input <paramref name="i"/>.</summary>
    public int TritAt(int plane, int o, int i)
    {
        if (plane >= Planes)
        {
            return 0;
        }
        var quads = Layout.PaddedIn / QuadInputs;
        var (plus, shift) = IndexBit(o / TileRows, quads, QuadBytes, plane, o % TileRows, i, minus: false);
        var (minus, _) = IndexBit(o / TileRows, quads, QuadBytes, plane, o % TileRows, i, minus: true);
        return (Codes[plus] >> shift & 1) - (Codes[minus] >> shift & 1);
    }

    /// <summary>The scale of <paramref name="plane"/> for row <paramref name="o"/>, group <paramref name="g"/>.</summary>
    public float ScaleAt(int plane, int o, int g) =>
        plane >= Planes ? 0f : Scales[((o / TileRows * Layout.Groups + g) * Planes + plane) * TileRows + o % TileRows];

    /// <summary>The fp32 weight <c>[out, in]</c>: the reference the kernel is checked against.</summary>
    public float[] Dequantize()
    {
        var weight = new float[(long)OutFeatures * Layout.InFeatures];
        for (var o = 0; o < OutFeatures; o++)
        {
            for (var i = 0; i < Layout.InFeatures; i++)
            {
                var g = Layout.GroupOfBlock[i / Layout.BlockSize];
                weight[o * Layout.InFeatures + i] = ScaleAt(0, o, g) * TritAt(0, o, i) + ScaleAt(1, o, g) * TritAt(1, o, i);
            }
        }
        return weight;
    }
}
