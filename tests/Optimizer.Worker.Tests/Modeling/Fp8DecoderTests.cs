using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Tests.Modeling;

public sealed class Fp8DecoderTests
{
    // The OCP FP8 definition written as arithmetic, independent of the decoder's bit construction.
    private static double E4M3Formula(int code)
    {
        var sign = (code & 0x80) != 0 ? -1.0 : 1.0;
        var exponent = (code >> 3) & 0xF;
        var mantissa = code & 0x7;
        if (exponent == 15 && mantissa == 7)
        {
            return double.NaN;
        }
        return exponent == 0
            ? sign * Math.Pow(2, -6) * (mantissa / 8.0)
            : sign * Math.Pow(2, exponent - 7) * (1 + mantissa / 8.0);
    }

    private static double E5M2Formula(int code)
    {
        var sign = (code & 0x80) != 0 ? -1.0 : 1.0;
        var exponent = (code >> 2) & 0x1F;
        var mantissa = code & 0x3;
        if (exponent == 31)
        {
            return mantissa == 0 ? sign * double.PositiveInfinity : double.NaN;
        }
        return exponent == 0
            ? sign * Math.Pow(2, -14) * (mantissa / 4.0)
            : sign * Math.Pow(2, exponent - 15) * (1 + mantissa / 4.0);
    }

    [Fact]
    public void DecodeE4M3_MatchesFormula_ForAll256Codes()
    {
        for (var code = 0; code < 256; code++)
        {
            var expected = E4M3Formula(code);
            var actual = Fp8Decoder.DecodeE4M3((byte)code);
            if (double.IsNaN(expected))
            {
                Assert.True(float.IsNaN(actual), $"code 0x{code:X2} should be NaN");
            }
            else
            {
                Assert.Equal(expected, (double)actual);
                Assert.Equal(double.IsNegative(expected), float.IsNegative(actual));
            }
        }
    }

    [Fact]
    public void DecodeE5M2_MatchesFormula_ForAll256Codes()
    {
        for (var code = 0; code < 256; code++)
        {
            var expected = E5M2Formula(code);
            var actual = Fp8Decoder.DecodeE5M2((byte)code);
            if (double.IsNaN(expected))
            {
                Assert.True(float.IsNaN(actual), $"code 0x{code:X2} should be NaN");
            }
            else
            {
                Assert.Equal(expected, (double)actual);
                Assert.Equal(double.IsNegative(expected), float.IsNegative(actual));
            }
        }
    }

    [Fact]
    public void DecodeE4M3_GivesKnownExtremes_WhenCodesAreMaxAndMinSubnormal()
    {
        Assert.Equal(448f, Fp8Decoder.DecodeE4M3(0x7E));
        Assert.Equal(-448f, Fp8Decoder.DecodeE4M3(0xFE));
        Assert.Equal(MathF.Pow(2, -9), Fp8Decoder.DecodeE4M3(0x01));
        Assert.Equal(57344f, Fp8Decoder.DecodeE5M2(0x7B));
    }
}
