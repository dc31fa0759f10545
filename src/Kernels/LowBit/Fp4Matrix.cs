using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// An FP4 E2M1 weight <c>W [out, in]</c>, <c>w = rowScale · groupScale · e2m1(code)</c> (the <c>fp4</c> method's codes and
/// scales), with codes in the <see cref="NibblePacking"/> layout for the integer-dot kernels.
/// </summary>
/// <remarks>
/// The kernels read each code as twice its value plus 12 (an unsigned integer, see <c>E2M1Nibble</c>), so the stored
/// scale is <c>rowScale · groupScale / 2</c> and the driver takes the 12 back as a zero point; no mins are stored.
/// </remarks>
public sealed class Fp4Matrix
{
    private Fp4Matrix(int outFeatures, BlockLayout layout, byte[] codes, Fp4Scales scales)
    {
        OutFeatures = outFeatures;
        Layout = layout;
        Codes = codes;
        Scales = scales;
    }

    public int OutFeatures { get; }

    public BlockLayout Layout { get; }

    /// <summary>Packed E2M1 codes <c>[out, PaddedIn / 2]</c>.</summary>
    public byte[] Codes { get; }

    /// <summary>Half of the effective scale per <c>[out, groups]</c> (exponent bytes when the group scales are powers of two).</summary>
    public Fp4Scales Scales { get; }

    /// <summary>Bytes the kernels stream per product (codes and scales).</summary>
    public long WeightBytes => Codes.LongLength + Scales.Bytes;

    /// <summary>
    /// Repacks the <c>fp4</c> method's output: codes packed two per byte along each row (<see cref="Fp4.Pack"/>),
    /// group scales <c>[out, groups]</c> and row scales <c>[out]</c> (ones unless <c>row_pow2</c>).
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The group size is not a multiple of 32 or the whole row.</exception>
    public static Fp4Matrix Pack(ReadOnlySpan<byte> packedCodes, ReadOnlySpan<float> groupScales, ReadOnlySpan<float> rowScales,
        int outFeatures, int inFeatures, int groupSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        var layout = new BlockLayout(inFeatures, groupSize, NibblePacking.Unit, padTo: NibblePacking.ChunkInputs);
        RtnQuantizer.CheckLength(packedCodes.Length, Fp4.PackedLength(outFeatures * inFeatures), nameof(packedCodes));
        RtnQuantizer.CheckLength(groupScales.Length, (long)outFeatures * layout.Groups, nameof(groupScales));
        RtnQuantizer.CheckLength(rowScales.Length, outFeatures, nameof(rowScales));
        var codes = new byte[(long)outFeatures * inFeatures];
        for (var k = 0; k < codes.Length; k++)
        {
            var b = packedCodes[k / 2];
            codes[k] = (byte)((k & 1) == 0 ? b & 0xF : b >> 4);
        }
        var scales = Fp4Scales.Create(groupScales, rowScales, outFeatures, layout.Groups);
        return new Fp4Matrix(outFeatures, layout, NibblePacking.Pack(codes, outFeatures, layout), scales);
    }

    /// <summary>The fp32 weight <c>[out, in]</c>: the reference the kernels are checked against.</summary>
    public float[] Dequantize()
    {
        var rowBytes = Layout.PaddedIn / 2;
        var weight = new float[(long)OutFeatures * Layout.InFeatures];
        var buffer = new float[Layout.Groups];
        for (var o = 0; o < OutFeatures; o++)
        {
            var row = Codes.AsSpan(o * rowBytes, rowBytes);
            var scales = Scales.Row(o, buffer);
            for (var i = 0; i < Layout.InFeatures; i++)
            {
                var scale = scales[Layout.GroupOfBlock[i / Layout.BlockSize]];
                weight[o * Layout.InFeatures + i] = 2 * scale * Fp4.Decode(NibblePacking.CodeAt(row, i));
            }
        }
        return weight;
    }
}
