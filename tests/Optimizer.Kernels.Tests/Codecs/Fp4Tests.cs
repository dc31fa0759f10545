using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.Tests.Codecs;

/// <summary>Exhaustive checks of the E2M1 codec over all 16 codes (ALGORITHMS.md 1.6).</summary>
public sealed class Fp4Tests
{
    // E2M1 from its definition (1/2/1 bits, bias 1, subnormal when the exponent field is 0), independent of the table.
    private static double Formula(int code)
    {
        var sign = (code & 0x8) != 0 ? -1.0 : 1.0;
        var exponent = (code >> 1) & 0x3;
        var mantissa = code & 0x1;
        return exponent == 0 ? sign * 0.5 * mantissa : sign * Math.Pow(2, exponent - 1) * (1 + mantissa / 2.0);
    }

    [Fact]
    public void Decode_MatchesFormulaAndTable_ForAll16Codes()
    {
        float[] table = [0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f];
        for (var code = 0; code < 16; code++)
        {
            var value = Fp4.Decode(code);
            Assert.Equal(Formula(code), (double)value);
            Assert.Equal(code >= 8 ? -table[code & 7] : table[code & 7], value);
            Assert.Equal(code >= 8, float.IsNegative(value));
        }
        Assert.Equal(table, Fp4.Magnitudes.ToArray());
    }

    [Fact]
    public void Encode_InvertsDecode_ForAll16Codes()
    {
        for (var code = 0; code < 16; code++)
        {
            Assert.Equal(code, Fp4.Encode(Fp4.Decode(code)));
        }
    }

    [Theory]
    [InlineData(0.25f, 0f)]
    [InlineData(0.75f, 1f)]
    [InlineData(1.25f, 1f)]
    [InlineData(1.75f, 2f)]
    [InlineData(2.5f, 2f)]
    [InlineData(3.5f, 4f)]
    [InlineData(5f, 4f)]
    [InlineData(-5f, -4f)]
    [InlineData(-0.75f, -1f)]
    public void Encode_RoundsTiesToEvenMantissa(float value, float expected)
    {
        Assert.Equal(expected, Fp4.Decode(Fp4.Encode(value)));
    }

    [Theory]
    [InlineData(7f, 6f)]
    [InlineData(1e9f, 6f)]
    [InlineData(float.PositiveInfinity, 6f)]
    [InlineData(float.NegativeInfinity, -6f)]
    [InlineData(5.01f, 6f)]
    [InlineData(0.2499f, 0f)]
    [InlineData(2.51f, 3f)]
    public void Encode_SaturatesAndRoundsToNearest(float value, float expected)
    {
        Assert.Equal(expected, Fp4.Decode(Fp4.Encode(value)));
    }

    [Fact]
    public void Encode_PicksNearestValue_OnADenseSweep()
    {
        for (var x = -7f; x <= 7f; x += 0.01f)
        {
            var decoded = Fp4.Decode(Fp4.Encode(x));
            var best = Enumerable.Range(0, 16).Select(c => Math.Abs(Fp4.Decode(c) - Math.Clamp(x, -6f, 6f))).Min();
            Assert.Equal(best, Math.Abs(decoded - Math.Clamp(x, -6f, 6f)), 1e-6);
        }
    }

    [Fact]
    public void Encode_MapsNaNToZero()
    {
        Assert.Equal(0, Fp4.Encode(float.NaN));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(256)]
    public void PackUnpack_RoundTrips_LowNibbleFirst(int count)
    {
        var codes = Enumerable.Range(0, count).Select(i => (byte)((i * 7 + 3) % 16)).ToArray();
        var packed = new byte[Fp4.PackedLength(count)];
        Fp4.Pack(codes, packed);
        var back = new byte[count];
        Fp4.Unpack(packed, back);
        Assert.Equal(codes, back);
        if (count >= 2)
        {
            Assert.Equal((byte)(codes[0] | (codes[1] << 4)), packed[0]);
        }
    }

    [Fact]
    public void PackUnpack_RoundTrips_AllPairsOf16Codes()
    {
        var codes = new byte[512];
        for (var i = 0; i < 256; i++)
        {
            codes[2 * i] = (byte)(i & 0xF);
            codes[2 * i + 1] = (byte)(i >> 4);
        }
        var packed = new byte[256];
        Fp4.Pack(codes, packed);
        Assert.Equal(Enumerable.Range(0, 256).Select(i => (byte)i), packed);
        var back = new byte[512];
        Fp4.Unpack(packed, back);
        Assert.Equal(codes, back);
    }
}
