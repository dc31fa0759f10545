using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.Tests.Codecs;

public sealed class Fp8QuantizerTests
{
    [Theory]
    [InlineData(Fp8Format.E4M3, true, 3)]
    [InlineData(Fp8Format.E4M3, false, 3)]
    [InlineData(Fp8Format.E5M2, true, 2)]
    public void Quantize_RestoresWeightsWithinHalfAnUlp_AndMapsAbsMaxToFormatMax(Fp8Format format, bool perChannel, int mantissaBits)
    {
        const int rows = 6;
        const int columns = 40;
        var random = new Random(3);
        var weight = Enumerable.Range(0, rows * columns).Select(i => (float)(random.NextDouble() - 0.5) * (1 + i / columns)).ToArray();
        var codes = new byte[weight.Length];
        var scales = new float[perChannel ? rows : 1];
        var restored = new float[weight.Length];

        Fp8Quantizer.Quantize(weight, rows, columns, format, codes, scales);
        Fp8Quantizer.Dequantize(codes, scales, rows, columns, format, restored);

        var minNormal = format == Fp8Format.E4M3 ? MathF.Pow(2, -6) : MathF.Pow(2, -14);
        for (var r = 0; r < rows; r++)
        {
            var scale = perChannel ? scales[r] : scales[0];
            var row = weight.AsSpan(r * columns, columns);
            if (perChannel)
            {
                var absMax = row.ToArray().Max(MathF.Abs);
                Assert.Equal(Fp8.MaxValue(format), MathF.Abs(Fp8.Decode(codes[r * columns + row.ToArray().Select(MathF.Abs).ToList().IndexOf(absMax)], format)));
            }
            for (var c = 0; c < columns; c++)
            {
                var k = r * columns + c;
                // Normal range: relative error ≤ 2^-(m+1) (half an ulp); below it, half the subnormal step.
                var bound = MathF.Abs(weight[k] / scale) >= minNormal
                    ? MathF.ScaleB(MathF.Abs(weight[k]), -(mantissaBits + 1)) * 1.0001f
                    : MathF.ScaleB(minNormal, -(mantissaBits + 1)) * scale * 1.0001f;
                Assert.True(MathF.Abs(weight[k] - restored[k]) <= bound, $"[{r},{c}] {weight[k]} vs {restored[k]} (bound {bound})");
            }
        }
    }

    [Fact]
    public void Quantize_UsesScaleOne_WhenRowIsAllZero()
    {
        var codes = new byte[4];
        var scales = new float[2];

        Fp8Quantizer.Quantize([0f, 0f, 1f, -2f], 2, 2, Fp8Format.E4M3, codes, scales);

        Assert.Equal(1f, scales[0]);
        Assert.Equal(2f / 448f, scales[1]);
        Assert.Equal(new byte[] { 0, 0 }, codes[..2]);
        Assert.Equal((byte)0xFE, codes[3]);
    }

    [Fact]
    public void Quantize_Throws_WhenScaleCountIsNeitherOneNorRows()
    {
        Assert.Throws<ArgumentException>(() =>
            Fp8Quantizer.Quantize(new float[6], 3, 2, Fp8Format.E4M3, new byte[6], new float[2]));
    }
}
