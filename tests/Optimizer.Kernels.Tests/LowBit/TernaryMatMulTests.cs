using Optimizer.Kernels.Codecs;
using Optimizer.Kernels.LowBit;

namespace Optimizer.Kernels.Tests.LowBit;

public class TernaryMatMulTests
{
    private const int MaxCode = QuantizedMatMul.TernaryMaxCode;

    public static TheoryData<int, KernelWidth> InnerLengths() => Int4MatMulTests.InnerLengths();

    [Theory]
    [MemberData(nameof(InnerLengths))]
    public void Ternary_EqualsScalarReference_ForEveryInnerLength(int inFeatures, KernelWidth width)
    {
        const int outFeatures = 3;
        const int batch = 2;
        var matrix = Random(outFeatures, inFeatures, -1, seed: inFeatures);
        var x = LowBitCases.Gaussian(batch * inFeatures, seed: 5000 + inFeatures);

        var expected = Run(matrix, x, batch, KernelWidth.Scalar);
        var actual = Run(matrix, x, batch, width);

        var (_, magnitude) = LowBitCases.Reference(matrix.Dequantize(), x, batch, outFeatures, inFeatures);
        LowBitCases.AssertSameAsScalar(expected, actual, magnitude, width);
    }

    [Theory]
    [InlineData(1, 128, 128, 1, 2)]
    [InlineData(33, 256, 64, 5, 2)]
    [InlineData(70, 384, 128, 8, 2)]
    [InlineData(32, 100, -1, 3, 2)]
    [InlineData(33, 256, 128, 2, 1)]
    [InlineData(5, 60, -1, 1, 1)]
    public void Ternary_IsExact_WhenActivationsQuantizeExactly(int outFeatures, int inFeatures, int groupSize, int batch, int planes)
    {
        var matrix = Random(outFeatures, inFeatures, groupSize, seed: outFeatures, planes);
        Assert.Equal(planes, matrix.Planes);
        var x = LowBitCases.ExactActivations(batch, matrix.Layout, seed: 9, MaxCode);

        foreach (var width in KernelWidths.Supported)
        {
            LowBitCases.AssertExact(matrix.Dequantize(), x, batch, outFeatures, inFeatures, Run(matrix, x, batch, width), width.ToString());
        }
    }

    [Theory]
    [InlineData(40, 256, 128, 4)]
    [InlineData(700, 512, 128, 1)]
    public void Ternary_MatchesDequantizedMatMul_WithinActivationQuantizationBound(int outFeatures, int inFeatures, int groupSize, int batch)
    {
        var matrix = Random(outFeatures, inFeatures, groupSize, seed: 3);
        var x = LowBitCases.Gaussian(batch * inFeatures, seed: 4);
        var weight = matrix.Dequantize();
        var (reference, magnitude) = LowBitCases.Reference(weight, x, batch, outFeatures, inFeatures);
        var bound = LowBitCases.ActivationBound(weight, x, batch, outFeatures, matrix.Layout, MaxCode);

        var y = Run(matrix, x, batch, KernelWidths.Best);

        LowBitCases.AssertWithinBound(y, reference, bound, magnitude, "best");
    }

    [Fact]
    public void FromPtqtp_DequantizesToTheFittedPlanes()
    {
        const int outFeatures = 5;
        const int inFeatures = 256;
        const int groupSize = 128;
        var weight = LowBitCases.Gaussian(outFeatures * inFeatures, seed: 12, 0.05f);
        var plane1 = new byte[TritPlaneQuantizer.PlaneLength(outFeatures, inFeatures)];
        var plane2 = new byte[plane1.Length];
        var alphas = new float[outFeatures * 2 * 2];
        TritPlaneQuantizer.Quantize(weight, outFeatures, inFeatures, groupSize, new TritPlaneFitOptions(), plane1, plane2, alphas);
        var t1 = new sbyte[inFeatures];
        var t2 = new sbyte[inFeatures];

        var matrix = TernaryMatrix.FromPtqtp(plane1, plane2, alphas, outFeatures, inFeatures, groupSize);

        var dequantized = matrix.Dequantize();
        var rowBytes = TritPacking.PackedLength(inFeatures);
        for (var o = 0; o < outFeatures; o++)
        {
            TritPacking.Unpack(plane1.AsSpan(o * rowBytes, rowBytes), t1);
            TritPacking.Unpack(plane2.AsSpan(o * rowBytes, rowBytes), t2);
            for (var i = 0; i < inFeatures; i++)
            {
                var g = i / groupSize;
                var expected = alphas[(o * 2 + g) * 2] * t1[i] + alphas[(o * 2 + g) * 2 + 1] * t2[i];
                Assert.Equal(expected, dequantized[o * inFeatures + i]);
            }
        }
    }

    [Fact]
    public void Ternary_ThrowsArgumentException_WhenActivationsUseTheInt8Range()
    {
        var matrix = Random(4, 64, -1, seed: 1);
        var activations = new QuantizedActivations();
        activations.Quantize(new float[64], 1, matrix.Layout);

        var error = Assert.Throws<ArgumentException>(() => QuantizedMatMul.Ternary(matrix, activations, new float[4]));
        Assert.Equal("x", error.ParamName);
    }

    private static TernaryMatrix Random(int outFeatures, int inFeatures, int groupSize, int seed, int planes = 2)
    {
        var random = new Random(seed);
        var t1 = new sbyte[outFeatures * inFeatures];
        var t2 = new sbyte[t1.Length];
        for (var k = 0; k < t1.Length; k++)
        {
            t1[k] = (sbyte)random.Next(-1, 2);
            t2[k] = (sbyte)random.Next(-1, 2);
        }
        var groups = groupSize == -1 ? 1 : inFeatures / groupSize;
        var alphas = LowBitCases.Gaussian(outFeatures * groups * planes, seed + 1, 0.05f);
        return TernaryMatrix.Pack(t1, planes == 2 ? t2 : [], alphas, outFeatures, inFeatures, groupSize);
    }

    private static float[] Run(TernaryMatrix matrix, float[] x, int batch, KernelWidth width)
    {
        var activations = new QuantizedActivations();
        activations.Quantize(x, batch, matrix.Layout, MaxCode);
        var y = new float[batch * matrix.OutFeatures];
        QuantizedMatMul.Ternary(matrix, activations, y, width);
        return y;
    }
}
