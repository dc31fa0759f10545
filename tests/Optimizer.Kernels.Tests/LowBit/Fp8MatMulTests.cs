using Optimizer.Kernels.Codecs;
using Optimizer.Kernels.LowBit;

namespace Optimizer.Kernels.Tests.LowBit;

public class Fp8MatMulTests
{
    public static TheoryData<int, KernelWidth> InnerLengths() => Int4MatMulTests.InnerLengths();

    [Theory]
    [MemberData(nameof(InnerLengths))]
    public void Fp8_EqualsTheDequantizedProduct_ForEveryInnerLength(int inFeatures, KernelWidth width)
    {
        const int outFeatures = 3;
        const int batch = 5;
        var matrix = Fp8Matrix.Quantize(LowBitCases.Gaussian(outFeatures * inFeatures, seed: inFeatures, 0.05f), outFeatures, inFeatures);
        var x = LowBitCases.Gaussian(batch * inFeatures, seed: 4000 + inFeatures);

        var y = Run(matrix, x, batch, width);

        LowBitCases.AssertExact(matrix.Dequantize(), x, batch, outFeatures, inFeatures, y, width.ToString());
    }

    [Fact]
    public void Fp8_DecodesEveryFiniteCode_IncludingSubnormals()
    {
        // One row per code (NaN codes 0x7F and 0xFF excluded: the quantizer never writes them), each times x = 1, 2, 3.
        var codes = Enumerable.Range(0, 256).Where(c => (c & 0x7F) != 0x7F).Select(c => (byte)c).ToArray();
        const int inFeatures = 3;
        var weightCodes = codes.SelectMany(c => Enumerable.Repeat(c, inFeatures)).ToArray();
        var matrix = Fp8Matrix.Pack(weightCodes, [1f], codes.Length, inFeatures);
        float[] x = [1f, 2f, 3f];

        foreach (var width in KernelWidths.Supported)
        {
            var y = Run(matrix, x, 1, width);
            for (var k = 0; k < codes.Length; k++)
            {
                Assert.Equal(6 * Fp8.Decode(codes[k], Fp8Format.E4M3), y[k]);
            }
        }
    }

    [Fact]
    public void Fp8_ParallelRowsEqualScalar_WhenTheProductIsLarge()
    {
        const int outFeatures = 600;
        const int inFeatures = 1000;
        var matrix = Fp8Matrix.Quantize(LowBitCases.Gaussian(outFeatures * inFeatures, seed: 2, 0.05f), outFeatures, inFeatures, perRow: false);
        var x = LowBitCases.Gaussian(8 * inFeatures, seed: 3);

        LowBitCases.AssertExact(matrix.Dequantize(), x, 8, outFeatures, inFeatures, Run(matrix, x, 8, KernelWidths.Best), "best");
    }

    [Fact]
    public void Fp8_ThrowsArgumentException_WhenActivationsHaveTheWrongLength()
    {
        var matrix = Fp8Matrix.Quantize(new float[8 * 16], 8, 16);

        var error = Assert.Throws<ArgumentException>(() => QuantizedMatMul.Fp8(matrix, new float[15], 1, new float[8]));
        Assert.Equal("x", error.ParamName);
    }

    private static float[] Run(Fp8Matrix matrix, float[] x, int batch, KernelWidth width)
    {
        var y = new float[batch * matrix.OutFeatures];
        QuantizedMatMul.Fp8(matrix, x, batch, y, width);
        return y;
    }
}
