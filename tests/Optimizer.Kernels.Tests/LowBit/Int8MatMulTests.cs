using Optimizer.Kernels.Codecs;
using Optimizer.Kernels.LowBit;

namespace Optimizer.Kernels.Tests.LowBit;

public class Int8MatMulTests
{
    public static TheoryData<int, KernelWidth> InnerLengths() => Int4MatMulTests.InnerLengths();

    [Theory]
    [MemberData(nameof(InnerLengths))]
    public void Int8_EqualsScalarReference_ForEveryInnerLength(int inFeatures, KernelWidth width)
    {
        const int outFeatures = 3;
        // Five rows: one pass of the four-row dot and one single-row dot.
        const int batch = 5;
        var matrix = Int8Matrix.Quantize(LowBitCases.Gaussian(outFeatures * inFeatures, seed: inFeatures, 0.05f), outFeatures, inFeatures);
        var x = LowBitCases.Gaussian(batch * inFeatures, seed: 2000 + inFeatures);

        var expected = LowBitCases.Run(matrix, x, batch, KernelWidth.Scalar);
        var actual = LowBitCases.Run(matrix, x, batch, width);

        var (_, magnitude) = LowBitCases.Reference(matrix.Dequantize(), x, batch, outFeatures, inFeatures);
        LowBitCases.AssertSameAsScalar(expected, actual, magnitude, width);
    }

    [Theory]
    [InlineData(1, 32, -1, 1)]
    [InlineData(19, 300, -1, 3)]
    [InlineData(64, 512, 128, 8)]
    [InlineData(7, 4096, -1, 16)]
    public void Int8_MatchesDequantizedMatMul_WithinActivationQuantizationBound(int outFeatures, int inFeatures, int groupSize, int batch)
    {
        var matrix = Int8Matrix.Quantize(LowBitCases.Gaussian(outFeatures * inFeatures, seed: outFeatures, 0.05f), outFeatures, inFeatures, groupSize);
        var x = LowBitCases.Gaussian(batch * inFeatures, seed: 3 * inFeatures);
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
    [InlineData(32)]
    [InlineData(-1)]
    public void Int8_IsExact_WhenActivationsQuantizeExactly(int groupSize)
    {
        const int outFeatures = 6;
        const int inFeatures = 512;
        const int batch = 5;
        var matrix = Int8Matrix.Quantize(LowBitCases.Gaussian(outFeatures * inFeatures, seed: 8, 0.05f), outFeatures, inFeatures, groupSize);
        var x = LowBitCases.ExactActivations(batch, matrix.Layout, seed: 7);

        foreach (var width in KernelWidths.Supported)
        {
            LowBitCases.AssertExact(matrix.Dequantize(), x, batch, outFeatures, inFeatures, LowBitCases.Run(matrix, x, batch, width), width.ToString());
        }
    }

    [Fact]
    public void Int8_IsExact_ForTheExtremeCodesThatCouldSaturate()
    {
        // Codes 0 and 255 become −128 and 127; activations ±127 after quantization: the largest pair sums vpmaddubsw sees.
        const int inFeatures = 64;
        var codes = Enumerable.Range(0, inFeatures).Select(i => (byte)(i % 2 == 0 ? 0 : 255)).ToArray();
        var matrix = Int8Matrix.Pack(codes, [1f], [128], 1, inFeatures);
        var x = Enumerable.Range(0, inFeatures).Select(i => i % 4 < 2 ? -1f : 1f).ToArray();
        var expected = Enumerable.Range(0, inFeatures).Sum(i => (double)(codes[i] - 128) * x[i]);

        foreach (var width in KernelWidths.Supported)
        {
            var y = LowBitCases.Run(matrix, x, 1, width);
            Assert.Equal(expected, y[0], 1e-3);
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(32)]
    public void FromGptq_DequantizesLikeTheCheckpoint_ForRtn8Bit(int groupSize)
    {
        const int outFeatures = 8;
        const int inFeatures = 96;
        var weight = LowBitCases.Gaussian(outFeatures * inFeatures, seed: 13, 0.1f);
        var linear = GptqLinear.Quantize(weight, outFeatures, inFeatures, new RtnSpec(8, groupSize, Symmetric: false));
        var expected = new float[weight.Length];
        linear.Dequantize(expected);

        var dequantized = Int8Matrix.FromGptq(linear).Dequantize();

        for (var k = 0; k < expected.Length; k++)
        {
            Assert.Equal(expected[k], dequantized[k], MathF.Abs(expected[k]) * 1e-6f + 1e-7f);
        }
    }

    [Fact]
    public void FromGptq_ThrowsArgumentException_WhenGIdxIsActOrder()
    {
        var weight = LowBitCases.Gaussian(8 * 64, seed: 14);
        var spec = new RtnSpec(8, 32, Symmetric: false);
        var codes = new byte[weight.Length];
        var scales = new float[16];
        var zeros = new int[16];
        RtnQuantizer.Quantize(weight, 8, 64, spec, codes, scales, zeros);
        var gIdx = Enumerable.Range(0, 64).Select(i => 1 - i / 32).ToArray();

        var error = Assert.Throws<ArgumentException>(() => Int8Matrix.FromGptq(GptqLinear.Pack(codes, scales, zeros, gIdx, 8, 64, spec)));

        Assert.Equal("linear", error.ParamName);
    }

    [Fact]
    public void Dequantize_EqualsRtn_PerChannel()
    {
        const int outFeatures = 5;
        const int inFeatures = 40;
        var weight = LowBitCases.Gaussian(outFeatures * inFeatures, seed: 9);
        var spec = new RtnSpec(8, -1, Symmetric: false);
        var codes = new byte[weight.Length];
        var scales = new float[outFeatures];
        var zeros = new int[outFeatures];
        RtnQuantizer.Quantize(weight, outFeatures, inFeatures, spec, codes, scales, zeros);

        var matrix = Int8Matrix.Pack(codes, scales, zeros, outFeatures, inFeatures);

        var dequantized = matrix.Dequantize();
        for (var o = 0; o < outFeatures; o++)
        {
            for (var i = 0; i < inFeatures; i++)
            {
                var expected = scales[o] * (codes[o * inFeatures + i] - zeros[o]);
                Assert.Equal(expected, dequantized[o * inFeatures + i], 1e-6f);
            }
        }
    }
}
