using Optimizer.Kernels.Codecs;
using Optimizer.Kernels.LowBit;

namespace Optimizer.Kernels.Tests.LowBit;

public class Int4MatMulTests
{
    public static TheoryData<int, KernelWidth> InnerLengths()
    {
        var data = new TheoryData<int, KernelWidth>();
        foreach (var width in KernelWidths.Supported)
        {
            for (var k = 1; k <= 256; k++)
            {
                data.Add(k, width);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(InnerLengths))]
    public void Int4_EqualsScalarReference_ForEveryInnerLength(int inFeatures, KernelWidth width)
    {
        const int outFeatures = 3;
        // Five rows: one pass of the four-row dot and one single-row dot.
        const int batch = 5;
        var matrix = LowBitCases.Int4(outFeatures, inFeatures, inFeatures, seed: inFeatures);
        var x = LowBitCases.Gaussian(batch * inFeatures, seed: 1000 + inFeatures);

        var expected = LowBitCases.Run(matrix, x, batch, KernelWidth.Scalar);
        var actual = LowBitCases.Run(matrix, x, batch, width);

        var (_, magnitude) = LowBitCases.Reference(matrix.Dequantize(), x, batch, outFeatures, inFeatures);
        LowBitCases.AssertSameAsScalar(expected, actual, magnitude, width);
    }

    [Theory]
    [InlineData(1, 128, 128, 1, false)]
    [InlineData(17, 256, 128, 3, false)]
    [InlineData(64, 384, 128, 8, true)]
    [InlineData(33, 192, 64, 16, false)]
    [InlineData(5, 192, 64, 4, true)]
    [InlineData(9, 96, 32, 5, false)]
    [InlineData(3, 160, 32, 8, true)]
    [InlineData(130, 512, -1, 5, false)]
    // Blocks of 64 through the batch-1 loop's four-chunk steps and its remainder; 257 blocks span two scale segments.
    [InlineData(7, 640, 64, 1, false)]
    [InlineData(2, 16448, 64, 1, false)]
    public void Int4_MatchesDequantizedMatMul_WithinActivationQuantizationBound(int outFeatures, int inFeatures, int groupSize, int batch, bool actOrder)
    {
        var matrix = LowBitCases.Int4(outFeatures, inFeatures, groupSize == -1 ? inFeatures : groupSize, seed: outFeatures, actOrder);
        var x = LowBitCases.Gaussian(batch * inFeatures, seed: 7 * inFeatures);
        var weight = matrix.Dequantize();
        var (reference, magnitude) = LowBitCases.Reference(weight, x, batch, outFeatures, inFeatures);
        var bound = LowBitCases.ActivationBound(weight, x, batch, outFeatures, matrix.Layout);

        foreach (var width in KernelWidths.Supported)
        {
            var y = LowBitCases.Run(matrix, x, batch, width);
            LowBitCases.AssertWithinBound(y, reference, bound, magnitude, width.ToString());
        }
    }

    [Theory]
    [InlineData(32, false)]
    [InlineData(64, true)]
    [InlineData(128, false)]
    [InlineData(256, true)]
    public void Int4_IsExact_WhenActivationsQuantizeExactly(int groupSize, bool actOrder)
    {
        const int outFeatures = 6;
        const int inFeatures = 512;
        const int batch = 5;
        var matrix = LowBitCases.Int4(outFeatures, inFeatures, groupSize, seed: groupSize, actOrder);
        var x = LowBitCases.ExactActivations(batch, matrix.Layout, seed: 6);

        foreach (var width in KernelWidths.Supported)
        {
            LowBitCases.AssertExact(matrix.Dequantize(), x, batch, outFeatures, inFeatures, LowBitCases.Run(matrix, x, batch, width), width.ToString());
        }
    }

    [Fact]
    public void Int4_ParallelRowsEqualSingleThreadedScalar_WhenTheProductIsLarge()
    {
        const int outFeatures = 700;
        const int inFeatures = 1024;
        Assert.True((long)outFeatures * inFeatures >= QuantizedMatMul.ParallelThreshold);
        var matrix = LowBitCases.Int4(outFeatures, inFeatures, 128, seed: 3);
        var x = LowBitCases.Gaussian(inFeatures, seed: 4);

        var expected = LowBitCases.Run(matrix, x, 1, KernelWidth.Scalar);
        var actual = LowBitCases.Run(matrix, x, 1, KernelWidths.Best);

        var (_, magnitude) = LowBitCases.Reference(matrix.Dequantize(), x, 1, outFeatures, inFeatures);
        for (var k = 0; k < expected.Length; k++)
        {
            Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-5 * magnitude[k] + 1e-7, $"y[{k}]");
        }
    }

    [Fact]
    public void Pack_ThrowsArgumentOutOfRange_WhenGroupsAreNarrowerThanOneRun()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Int4Matrix.Pack(new byte[128], new float[8], new int[8], null, 1, 128, 16));
        Assert.Equal("groupSize", error.ParamName);
    }

    [Fact]
    public void FromGptq_DequantizesLikeTheCheckpoint_WithActOrder()
    {
        const int outFeatures = 16;
        const int inFeatures = 256;
        var weight = LowBitCases.Gaussian(outFeatures * inFeatures, seed: 11, 0.1f);
        var spec = new RtnSpec(4, 64, Symmetric: false);
        var codes = new byte[weight.Length];
        var scales = new float[outFeatures * 4];
        var zeros = new int[outFeatures * 4];
        RtnQuantizer.Quantize(weight, outFeatures, inFeatures, spec, codes, scales, zeros);
        var gIdx = Enumerable.Range(0, inFeatures).Select(i => i / 64).ToArray();
        new Random(5).Shuffle(gIdx);
        var linear = GptqLinear.Pack(codes, scales, zeros, gIdx, outFeatures, inFeatures, spec);
        var expected = new float[weight.Length];
        linear.Dequantize(expected);

        var matrix = Int4Matrix.FromGptq(linear);

        Assert.NotNull(matrix.Layout.Permutation);
        Assert.Equal(expected, matrix.Dequantize());
    }

    [Fact]
    public void FromAwq_DequantizesLikeTheCheckpoint()
    {
        const int outFeatures = 16;
        const int inFeatures = 256;
        var weight = LowBitCases.Gaussian(outFeatures * inFeatures, seed: 12, 0.1f);
        var spec = new RtnSpec(4, 128, Symmetric: false);
        var codes = new byte[weight.Length];
        var scales = new float[outFeatures * 2];
        var zeros = new int[outFeatures * 2];
        RtnQuantizer.Quantize(weight, outFeatures, inFeatures, spec, codes, scales, zeros);
        var linear = AwqLinear.Pack(codes, scales, zeros, outFeatures, inFeatures, 128);
        var expected = new float[weight.Length];
        linear.Dequantize(expected);

        var matrix = Int4Matrix.FromAwq(linear);

        Assert.Null(matrix.Layout.Permutation);
        Assert.Equal(expected, matrix.Dequantize());
    }

    [Fact]
    public void Int4_ThrowsArgumentException_WhenOutputLengthIsWrong()
    {
        var matrix = LowBitCases.Int4(4, 64, 64, seed: 1);
        var activations = new QuantizedActivations();
        activations.Quantize(new float[64], 1, matrix.Layout);

        var error = Assert.Throws<ArgumentException>(() => QuantizedMatMul.Int4(matrix, activations, new float[3]));
        Assert.Equal("y", error.ParamName);
    }

    [Fact]
    public void Int4_ThrowsArgumentException_WhenActivationsWereQuantizedForAnotherMatrix()
    {
        var matrix = LowBitCases.Int4(4, 64, 64, seed: 1);
        var other = LowBitCases.Int4(4, 64, 64, seed: 2);
        var activations = new QuantizedActivations();
        activations.Quantize(new float[64], 1, other.Layout);

        var error = Assert.Throws<ArgumentException>(() => QuantizedMatMul.Int4(matrix, activations, new float[4]));
        Assert.Equal("x", error.ParamName);
    }

    [Fact]
    public void Pack_Throws_WhenActOrderGroupsAreUneven()
    {
        var gIdx = Enumerable.Repeat(0, 128).ToArray();
        gIdx[0] = 1;

        var error = Assert.Throws<ArgumentException>(() =>
            Int4Matrix.Pack(new byte[128], new float[2], new int[2], gIdx, 1, 128, 64));
        Assert.Equal("gIdx", error.ParamName);
    }

    [Fact]
    public void Pack_KeepsZeroPointsAsBytes_AndThrows_WhenOneDoesNotFit()
    {
        var codes = new byte[2 * 64];
        var scales = new[] { 0.5f, 0.25f, 1f, 2f };
        var matrix = Int4Matrix.Pack(codes, scales, [3, 15, 0, 255], null, 2, 64, 32);
        Assert.Equal(new byte[] { 3, 15, 0, 255 }, matrix.Zeros);
        Assert.Equal(codes.Length / 2 + 4L * scales.Length + scales.Length, matrix.WeightBytes);
        // Every code is 0, so each weight is −s·z.
        Assert.Equal(-0.5f * 3, matrix.Dequantize()[0]);

        Assert.Throws<ArgumentException>(() => Int4Matrix.Pack(codes, scales, [3, 256, 0, 1], null, 2, 64, 32));
    }
}
