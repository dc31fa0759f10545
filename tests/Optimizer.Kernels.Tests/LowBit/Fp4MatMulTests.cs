using Optimizer.Kernels.Codecs;
using Optimizer.Kernels.LowBit;

namespace Optimizer.Kernels.Tests.LowBit;

public class Fp4MatMulTests
{
    public static TheoryData<int, KernelWidth> EvenInnerLengths()
    {
        var data = new TheoryData<int, KernelWidth>();
        foreach (var width in KernelWidths.Supported)
        {
            // FP4 packs two codes a byte along the row, so rows have an even length.
            for (var k = 2; k <= 256; k += 2)
            {
                data.Add(k, width);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EvenInnerLengths))]
    public void Fp4_EqualsScalarReference_ForEveryInnerLength(int inFeatures, KernelWidth width)
    {
        const int outFeatures = 3;
        const int batch = 5;
        var matrix = Quantize(outFeatures, inFeatures, -1, Fp4ScaleConstraint.None, seed: inFeatures);
        var x = LowBitCases.Gaussian(batch * inFeatures, seed: 3000 + inFeatures);

        var expected = Run(matrix, x, batch, KernelWidth.Scalar);
        var actual = Run(matrix, x, batch, width);

        var (_, magnitude) = LowBitCases.Reference(matrix.Dequantize(), x, batch, outFeatures, inFeatures);
        LowBitCases.AssertSameAsScalar(expected, actual, magnitude, width);
    }

    [Theory]
    [InlineData(7, 64, 32, Fp4ScaleConstraint.None, 1)]
    [InlineData(33, 256, 32, Fp4ScaleConstraint.Pow2, 8)]
    [InlineData(16, 384, 128, Fp4ScaleConstraint.RowPow2, 5)]
    [InlineData(5, 200, -1, Fp4ScaleConstraint.None, 16)]
    public void Fp4_MatchesDequantizedMatMul_WithinActivationQuantizationBound(int outFeatures, int inFeatures, int groupSize,
        Fp4ScaleConstraint constraint, int batch)
    {
        var matrix = Quantize(outFeatures, inFeatures, groupSize, constraint, seed: outFeatures);
        var x = LowBitCases.Gaussian(batch * inFeatures, seed: 11 * inFeatures);
        var weight = matrix.Dequantize();
        var (reference, magnitude) = LowBitCases.Reference(weight, x, batch, outFeatures, inFeatures);
        var bound = LowBitCases.ActivationBound(weight, x, batch, outFeatures, matrix.Layout);

        foreach (var width in KernelWidths.Supported)
        {
            var y = Run(matrix, x, batch, width);
            LowBitCases.AssertWithinBound(y, reference, bound, magnitude, width.ToString());
        }
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(-1)]
    public void Fp4_IsExact_ForEveryCode_WhenActivationsQuantizeExactly(int groupSize)
    {
        const int outFeatures = 6;
        const int inFeatures = 256;
        const int batch = 5;
        var packed = RandomPackedCodes(outFeatures * inFeatures, seed: groupSize + 100);
        var groups = Fp4Quantizer.GroupCount(inFeatures, groupSize);
        var groupScales = Enumerable.Range(1, outFeatures * groups).Select(s => 0.01f * s).ToArray();
        var matrix = Fp4Matrix.Pack(packed, groupScales, Enumerable.Repeat(1f, outFeatures).ToArray(), outFeatures, inFeatures, groupSize);
        var x = LowBitCases.ExactActivations(batch, matrix.Layout, seed: 5);

        foreach (var width in KernelWidths.Supported)
        {
            LowBitCases.AssertExact(matrix.Dequantize(), x, batch, outFeatures, inFeatures, Run(matrix, x, batch, width), width.ToString());
        }
    }

    [Theory]
    [InlineData(32, Fp4ScaleConstraint.Pow2, true)]
    [InlineData(128, Fp4ScaleConstraint.RowPow2, true)]
    [InlineData(32, Fp4ScaleConstraint.None, false)]
    public void Scales_AreExponentBytes_ExactlyWhenGroupScalesArePowersOfTwo(int groupSize, Fp4ScaleConstraint constraint, bool compact)
    {
        const int outFeatures = 9;
        const int inFeatures = 256;
        var weight = LowBitCases.Gaussian(outFeatures * inFeatures, seed: groupSize, 0.05f);
        var groups = Fp4Quantizer.GroupCount(inFeatures, groupSize);
        var groupScales = new float[outFeatures * groups];
        var rowScales = new float[outFeatures];
        Fp4Quantizer.ComputeScales(weight, outFeatures, inFeatures, groupSize, constraint, groupScales, rowScales);
        var packed = new byte[Fp4.PackedLength(weight.Length)];
        Fp4Quantizer.Encode(weight, groupScales, rowScales, outFeatures, inFeatures, groupSize, packed);
        var expected = new float[weight.Length];
        Fp4Quantizer.Dequantize(packed, groupScales, rowScales, outFeatures, inFeatures, groupSize, expected);

        var matrix = Fp4Matrix.Pack(packed, groupScales, rowScales, outFeatures, inFeatures, groupSize);

        Assert.Equal(compact, matrix.Scales.IsCompact);
        Assert.Equal(expected, matrix.Dequantize());
        Assert.Equal(packed.Length + (compact ? groupScales.Length + 4L * outFeatures : 4L * groupScales.Length), matrix.WeightBytes);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(-1)]
    public void Fp4_IsExact_WithCompactScales_WhenActivationsQuantizeExactly(int groupSize)
    {
        const int outFeatures = 5;
        const int inFeatures = 320;
        const int batch = 6;
        var packed = RandomPackedCodes(outFeatures * inFeatures, seed: groupSize + 200);
        var groups = Fp4Quantizer.GroupCount(inFeatures, groupSize);
        var groupScales = Enumerable.Range(0, outFeatures * groups).Select(s => MathF.ScaleB(1f, s % 7 - 4)).ToArray();
        var rowScales = Enumerable.Range(0, outFeatures).Select(o => 0.3f + o).ToArray();
        var matrix = Fp4Matrix.Pack(packed, groupScales, rowScales, outFeatures, inFeatures, groupSize);
        Assert.True(matrix.Scales.IsCompact);
        var x = LowBitCases.ExactActivations(batch, matrix.Layout, seed: 7);

        foreach (var width in KernelWidths.Supported)
        {
            LowBitCases.AssertExact(matrix.Dequantize(), x, batch, outFeatures, inFeatures, Run(matrix, x, batch, width), width.ToString());
        }
    }

    [Fact]
    public void Dequantize_EqualsTheFp4Codec_ForEveryCode()
    {
        // 16 inputs per row cycle through all 16 codes, so every table entry of the kernels' lookup is exercised.
        const int outFeatures = 4;
        const int inFeatures = 64;
        var codes = new byte[outFeatures * inFeatures];
        for (var k = 0; k < codes.Length; k++)
        {
            codes[k] = (byte)(k % 16);
        }
        var packed = new byte[Fp4.PackedLength(codes.Length)];
        Fp4.Pack(codes, packed);
        var groupScales = Enumerable.Range(1, outFeatures * 2).Select(s => 0.25f * s).ToArray();
        var rowScales = new[] { 1f, 2f, 0.5f, 1f };
        var expected = new float[codes.Length];
        Fp4Quantizer.Dequantize(packed, groupScales, rowScales, outFeatures, inFeatures, 32, expected);

        var matrix = Fp4Matrix.Pack(packed, groupScales, rowScales, outFeatures, inFeatures, 32);

        Assert.Equal(expected, matrix.Dequantize());
    }

    private static Fp4Matrix Quantize(int outFeatures, int inFeatures, int groupSize, Fp4ScaleConstraint constraint, int seed)
    {
        var weight = LowBitCases.Gaussian(outFeatures * inFeatures, seed, 0.05f);
        var groups = Fp4Quantizer.GroupCount(inFeatures, groupSize);
        var groupScales = new float[outFeatures * groups];
        var rowScales = new float[outFeatures];
        Fp4Quantizer.ComputeScales(weight, outFeatures, inFeatures, groupSize, constraint, groupScales, rowScales);
        var packed = new byte[Fp4.PackedLength(weight.Length)];
        Fp4Quantizer.Encode(weight, groupScales, rowScales, outFeatures, inFeatures, groupSize, packed);
        return Fp4Matrix.Pack(packed, groupScales, rowScales, outFeatures, inFeatures, groupSize);
    }

    private static float[] Run(Fp4Matrix matrix, float[] x, int batch, KernelWidth width)
    {
        var activations = new QuantizedActivations();
        activations.Quantize(x, batch, matrix.Layout);
        var y = new float[batch * matrix.OutFeatures];
        QuantizedMatMul.Fp4(matrix, activations, y, width);
        return y;
    }

    /// <summary>Every E2M1 code (0..15) drawn at random, packed two per byte as the fp4 method stores them.</summary>
    private static byte[] RandomPackedCodes(int count, int seed)
    {
        var random = new Random(seed);
        var codes = new byte[count];
        for (var k = 0; k < codes.Length; k++)
        {
            codes[k] = (byte)random.Next(16);
        }
        var packed = new byte[Fp4.PackedLength(count)];
        Fp4.Pack(codes, packed);
        return packed;
    }
}
