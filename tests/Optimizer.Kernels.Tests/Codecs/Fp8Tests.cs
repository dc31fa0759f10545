using Optimizer.Kernels.Codecs;

namespace Optimizer.Kernels.Tests.Codecs;

/// <summary>Exhaustive checks of the FP8 codec over all 256 codes of each format (ALGORITHMS.md 1.6).</summary>
public sealed class Fp8Tests
{
    public static TheoryData<Fp8Format> Formats => [Fp8Format.E4M3, Fp8Format.E5M2];

    // The OCP FP8 definition written as arithmetic, independent of the codec's bit construction.
    private static double Formula(int code, Fp8Format format)
    {
        var (mantissaBits, bias) = format == Fp8Format.E4M3 ? (3, 7) : (2, 15);
        var maxExponent = (1 << (7 - mantissaBits)) - 1;
        var sign = (code & 0x80) != 0 ? -1.0 : 1.0;
        var exponent = (code & 0x7F) >> mantissaBits;
        var mantissa = code & ((1 << mantissaBits) - 1);
        var fraction = mantissa / (double)(1 << mantissaBits);
        if (format == Fp8Format.E4M3 && exponent == maxExponent && mantissa == 7)
        {
            return double.NaN;
        }
        if (format == Fp8Format.E5M2 && exponent == maxExponent)
        {
            return mantissa == 0 ? sign * double.PositiveInfinity : double.NaN;
        }
        return exponent == 0
            ? sign * Math.Pow(2, 1 - bias) * fraction
            : sign * Math.Pow(2, exponent - bias) * (1 + fraction);
    }

    private static bool IsFinite(int code, Fp8Format format) => double.IsFinite(Formula(code, format));

    [Theory]
    [MemberData(nameof(Formats))]
    public void Decode_MatchesFormula_ForAll256Codes(Fp8Format format)
    {
        for (var code = 0; code < 256; code++)
        {
            var expected = Formula(code, format);
            var actual = Fp8.Decode((byte)code, format);
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

    [Theory]
    [MemberData(nameof(Formats))]
    public void Encode_InvertsDecode_ForEveryFiniteCode(Fp8Format format)
    {
        for (var code = 0; code < 256; code++)
        {
            if (IsFinite(code, format))
            {
                // Includes +0 (0x00) and -0 (0x80): the sign survives.
                Assert.Equal((byte)code, Fp8.Encode(Fp8.Decode((byte)code, format), format));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Encode_RoundsMidpointsToEvenMantissa_AndNearbyValuesToNearest(Fp8Format format)
    {
        for (var code = 0; code < 0x7F; code++)
        {
            var next = code + 1;
            if (!IsFinite(next, format))
            {
                break;
            }
            var low = Fp8.Decode((byte)code, format);
            var high = Fp8.Decode((byte)next, format);
            var middle = (low + high) / 2; // exact in float32: both are on a grid far coarser than float32's
            var even = (byte)((code & 1) == 0 ? code : next);
            Assert.Equal(even, Fp8.Encode(middle, format));
            Assert.Equal((byte)(even | 0x80), Fp8.Encode(-middle, format));
            Assert.Equal((byte)code, Fp8.Encode(MathF.BitDecrement(middle), format));
            Assert.Equal((byte)next, Fp8.Encode(MathF.BitIncrement(middle), format));
        }
    }

    [Theory]
    [InlineData(Fp8Format.E4M3, 448f, 0x7E)]
    [InlineData(Fp8Format.E4M3, 464f, 0x7E)]
    [InlineData(Fp8Format.E4M3, 1e30f, 0x7E)]
    [InlineData(Fp8Format.E4M3, float.PositiveInfinity, 0x7E)]
    [InlineData(Fp8Format.E4M3, float.NegativeInfinity, 0xFE)]
    [InlineData(Fp8Format.E4M3, -500f, 0xFE)]
    [InlineData(Fp8Format.E5M2, 57344f, 0x7B)]
    [InlineData(Fp8Format.E5M2, 61440f, 0x7B)]
    [InlineData(Fp8Format.E5M2, 1e30f, 0x7B)]
    [InlineData(Fp8Format.E5M2, float.PositiveInfinity, 0x7B)]
    [InlineData(Fp8Format.E5M2, -70000f, 0xFB)]
    public void Encode_SaturatesToMax_WhenValueIsBeyondTheRange(Fp8Format format, float value, int expected)
    {
        Assert.Equal((byte)expected, Fp8.Encode(value, format));
        Assert.True(float.IsFinite(Fp8.Decode(Fp8.Encode(value, format), format)));
    }

    [Theory]
    [InlineData(Fp8Format.E4M3, 0x7F)]
    [InlineData(Fp8Format.E5M2, 0x7F)]
    public void Encode_GivesNaNCode_WhenValueIsNaN(Fp8Format format, int expected)
    {
        // float.NaN has its sign bit set on .NET; build both signs explicitly.
        var positiveNaN = BitConverter.UInt32BitsToSingle(0x7FC00000u);
        var negativeNaN = BitConverter.UInt32BitsToSingle(0xFFC00000u);
        Assert.Equal((byte)expected, Fp8.Encode(positiveNaN, format));
        Assert.True(float.IsNaN(Fp8.Decode(Fp8.Encode(positiveNaN, format), format)));
        Assert.Equal((byte)(expected | 0x80), Fp8.Encode(negativeNaN, format));
    }

    [Theory]
    [InlineData(Fp8Format.E4M3, 3, 7)]
    [InlineData(Fp8Format.E5M2, 2, 15)]
    public void Encode_IsExact_ForEverySubnormalAndFlushesBelowHalfTheStep(Fp8Format format, int mantissaBits, int bias)
    {
        var step = MathF.ScaleB(1f, 1 - bias - mantissaBits);
        for (var m = 0; m < 1 << mantissaBits; m++)
        {
            Assert.Equal((byte)m, Fp8.Encode(m * step, format));
            Assert.Equal(m * step, Fp8.Decode((byte)m, format));
        }
        Assert.Equal((byte)0, Fp8.Encode(step / 2, format)); // tie between 0 and the first subnormal: even is 0
        Assert.Equal((byte)1, Fp8.Encode(step * 0.75f, format));
        Assert.Equal((byte)0, Fp8.Encode(float.Epsilon, format));
        Assert.Equal((byte)0x80, Fp8.Encode(-float.Epsilon, format));
    }

    [Fact]
    public void Decode_GivesKnownExtremes_WhenCodesAreMaxAndMinSubnormal()
    {
        Assert.Equal(448f, Fp8.Decode(0x7E, Fp8Format.E4M3));
        Assert.Equal(-448f, Fp8.Decode(0xFE, Fp8Format.E4M3));
        Assert.Equal(MathF.Pow(2, -9), Fp8.Decode(0x01, Fp8Format.E4M3));
        Assert.Equal(57344f, Fp8.Decode(0x7B, Fp8Format.E5M2));
        Assert.Equal(MathF.Pow(2, -16), Fp8.Decode(0x01, Fp8Format.E5M2));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void EncodeSpan_MatchesScalarEncode_AndDecodeSpanMatchesScalarDecode(Fp8Format format)
    {
        var random = new Random(7);
        var values = Enumerable.Range(0, 257).Select(_ => (float)((random.NextDouble() - 0.5) * 2 * Fp8.MaxValue(format))).ToArray();
        var codes = new byte[values.Length];
        var decoded = new float[values.Length];

        Fp8.Encode(values, format, codes);
        Fp8.Decode(codes, format, decoded);

        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal(Fp8.Encode(values[i], format), codes[i]);
            Assert.Equal(Fp8.Decode(codes[i], format), decoded[i]);
        }
        Assert.Throws<ArgumentException>(() => Fp8.Encode(values, format, new byte[1]));
    }
}
