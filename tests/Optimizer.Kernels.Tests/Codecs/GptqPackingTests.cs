using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.Tests.Codecs;

public class GptqPackingTests
{
    [Theory]
    [InlineData(2, 16, 3)]
    [InlineData(2, 48, 5)]
    [InlineData(3, 32, 1)]
    [InlineData(3, 96, 7)]
    [InlineData(4, 8, 1)]
    [InlineData(4, 40, 3)]
    [InlineData(5, 32, 2)]
    [InlineData(6, 16, 3)]
    [InlineData(7, 32, 3)]
    [InlineData(8, 4, 5)]
    [InlineData(8, 12, 1)]
    public void PackRows_RoundTrips_ForEveryBitWidth(int bits, int rows, int columns)
    {
        var random = new Random(bits * 1000 + rows);
        var codes = new int[rows * columns];
        for (var k = 0; k < codes.Length; k++)
        {
            codes[k] = random.Next(1 << bits);
        }
        var packed = new int[GptqPacking.PackedLength(rows, bits) * columns];
        GptqPacking.PackRows(codes, rows, columns, bits, packed);
        var back = new int[codes.Length];
        GptqPacking.UnpackRows(packed, rows, columns, bits, back);
        Assert.Equal(codes, back);

        var packedColumns = new int[columns * GptqPacking.PackedLength(rows, bits)];
        var transposed = new int[codes.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                transposed[c * rows + r] = codes[r * columns + c];
            }
        }
        GptqPacking.PackColumns(transposed, columns, rows, bits, packedColumns);
        var backColumns = new int[codes.Length];
        GptqPacking.UnpackColumns(packedColumns, columns, rows, bits, backColumns);
        Assert.Equal(transposed, backColumns);
    }

    [Fact]
    public void PackRows_PutsFirstRowInLowestBits_When4Bit()
    {
        int[] codes = [1, 2, 3, 4, 5, 6, 7, 15];
        var packed = new int[1];
        GptqPacking.PackRows(codes, 8, 1, 4, packed);
        Assert.Equal(unchecked((int)0xF7654321), packed[0]);
    }

    [Fact]
    public void PackRows_MatchesGptq3BitLayout_WhenCodesStraddleWords()
    {
        // GPTQ's 3-bit layout: codes 0..9 in word 0, code 10 split (2 low bits at 30..31, 1 bit at word 1 bit 0),
        // codes 11..20 from word 1 bit 1, code 21 split (1 bit at 31, 2 bits in word 2), codes 22..31 from word 2 bit 2.
        var codes = new int[32];
        codes[10] = 0b101;
        codes[11] = 0b111;
        codes[21] = 0b110;
        codes[22] = 0b011;
        var packed = new int[3];
        GptqPacking.PackRows(codes, 32, 1, 3, packed);
        Assert.Equal(unchecked((int)0x4000_0000), packed[0]); // low bits 01 of code 10 at 30..31
        Assert.Equal(unchecked((int)(0b1 | (0b111 << 1) | (0b0u << 31))), packed[1]);
        Assert.Equal(0b11 | (0b011 << 2), packed[2]); // high bits 11 of code 21, then code 22 at bit 2
    }

    [Fact]
    public void PackedLength_Throws_WhenStreamDoesNotEndOnWord()
    {
        Assert.Throws<ArgumentException>(() => GptqPacking.PackedLength(16, 3));
    }

    [Theory]
    [InlineData(2, 16, 32, 16, false)]
    [InlineData(3, 32, 64, 32, false)]
    [InlineData(4, 24, 64, -1, false)]
    [InlineData(4, 8, 48, 16, true)]
    [InlineData(8, 12, 40, 8, false)]
    public void GptqLinear_RoundTrips_ThroughPackedTensors(int bits, int outFeatures, int inFeatures, int groupSize, bool symmetric)
    {
        var spec = new RtnSpec(bits, groupSize, symmetric);
        var weight = RtnQuantizerTests.RandomWeights(outFeatures * inFeatures, seed: bits + inFeatures);
        var linear = GptqLinear.Quantize(weight, outFeatures, inFeatures, spec);

        var groups = spec.GroupCount(inFeatures);
        Assert.Equal(inFeatures * bits / 32 * outFeatures, linear.QWeight.Length);
        Assert.Equal(groups * (outFeatures * bits / 32), linear.QZeros.Length);
        Assert.Equal(groups * outFeatures, linear.Scales.Length);
        Assert.Equal(inFeatures, linear.GIdx.Length);

        // The reference: RTN on the same weights, dequantized with the float16-rounded scales.
        var codes = new byte[outFeatures * inFeatures];
        var scales = new float[outFeatures * groups];
        var zeros = new int[outFeatures * groups];
        RtnQuantizer.Quantize(weight, outFeatures, inFeatures, spec, codes, scales, zeros);
        var unpackedCodes = linear.UnpackCodes();
        var unpackedZeros = linear.UnpackZeros();
        var size = spec.EffectiveGroupSize(inFeatures);
        for (var o = 0; o < outFeatures; o++)
        {
            for (var i = 0; i < inFeatures; i++)
            {
                Assert.Equal(codes[o * inFeatures + i], unpackedCodes[i * outFeatures + o]);
            }
            for (var g = 0; g < groups; g++)
            {
                Assert.Equal(zeros[o * groups + g], unpackedZeros[g * outFeatures + o]);
            }
        }

        var restored = new float[weight.Length];
        linear.Dequantize(restored);
        for (var k = 0; k < weight.Length; k++)
        {
            var g = k / inFeatures * groups + k % inFeatures / size;
            var s = scales[g];
            // Half scales add at most ~2^-11 relative error per step count on top of the s/2 rounding bound.
            var bound = s / 2 + s * spec.MaxQ * 1e-3f;
            Assert.True(MathF.Abs(weight[k] - restored[k]) <= bound || codes[k] is 0 || codes[k] == spec.MaxQ,
                $"|w - ŵ| = {MathF.Abs(weight[k] - restored[k])} > {bound} at {k}");
        }
    }

    [Fact]
    public void GptqLinear_StoresZeroMinusOne_AndReadsZeroBack_WhenZeroIsZero()
    {
        // All-positive weights give z = 0, stored as (0 - 1) mod 16 = 15.
        float[] weight = [.. Enumerable.Range(1, 8 * 8).Select(v => v / 64f)];
        var linear = GptqLinear.Quantize(weight, 8, 8, new RtnSpec(4, -1, false));
        Assert.Equal(unchecked((int)0xFFFF_FFFF), linear.QZeros[0]);
        Assert.All(linear.UnpackZeros(), z => Assert.Equal(0, z));
    }
}
