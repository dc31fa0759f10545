namespace Optimizer.Kernels.Codecs;

/// <summary>
/// FP8 encode (round to nearest, ties to even, saturating) and exact decode for the OCP formats
/// <see cref="Fp8Format.E4M3"/> and <see cref="Fp8Format.E5M2"/>.
/// </summary>
/// <remarks>
/// Encoding saturates like NVIDIA's <c>__NV_SATFINITE</c> conversion: any value beyond the largest finite
/// magnitude, infinities included, becomes ±max, never NaN or infinity; NaN becomes the format's NaN code
/// (<c>S.1111.111</c> for E4M3, <c>S.11111.11</c> for E5M2) keeping the sign. Every FP8 value is a float32,
/// so decoding is exact (a 256-entry table built from the bit layout).
/// </remarks>
public static class Fp8
{
    private static readonly float[] s_e4m3 = BuildTable(Fp8Format.E4M3);
    private static readonly float[] s_e5m2 = BuildTable(Fp8Format.E5M2);

    /// <summary>Largest finite magnitude: 448 (E4M3) or 57344 (E5M2).</summary>
    public static float MaxValue(Fp8Format format) => format == Fp8Format.E4M3 ? 448f : 57344f;

    /// <summary>The value of one code.</summary>
    public static float Decode(byte code, Fp8Format format) => Table(format)[code];

    /// <summary>Decodes codes into float32 values.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="codes"/>.</exception>
    public static void Decode(ReadOnlySpan<byte> codes, Fp8Format format, Span<float> destination)
    {
        if (destination.Length < codes.Length)
        {
            throw new ArgumentException("destination is shorter than the input", nameof(destination));
        }
        var table = Table(format);
        for (var i = 0; i < codes.Length; i++)
        {
            destination[i] = table[codes[i]];
        }
    }

    /// <summary>Encodes values into codes (nearest, ties to even, saturating).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="values"/>.</exception>
    public static void Encode(ReadOnlySpan<float> values, Fp8Format format, Span<byte> destination)
    {
        if (destination.Length < values.Length)
        {
            throw new ArgumentException("destination is shorter than the input", nameof(destination));
        }
        for (var i = 0; i < values.Length; i++)
        {
            destination[i] = Encode(values[i], format);
        }
    }

    /// <summary>The code nearest to <paramref name="value"/> (ties to the even mantissa), saturating at ±max.</summary>
    public static byte Encode(float value, Fp8Format format)
    {
        var (mantissaBits, bias, maxCode) = format == Fp8Format.E4M3 ? (3, 7, 0x7E) : (2, 15, 0x7B);
        var bits = BitConverter.SingleToUInt32Bits(value);
        var sign = (int)(bits >> 24) & 0x80;
        if (float.IsNaN(value))
        {
            return (byte)(sign | 0x7F);
        }
        var magnitude = MathF.Abs(value);
        if (magnitude >= MaxValue(format))
        {
            return (byte)(sign | maxCode);
        }
        // Exponent of the FP8 grid around the value: the float's own exponent, floored at the smallest
        // normal exponent (1 - bias), below which the grid is the uniform subnormal step.
        var exponent = Math.Max((int)((bits >> 23) & 0xFF) - 127, 1 - bias);
        var step = MathF.ScaleB(1f, exponent - mantissaBits);
        // magnitude / step is exact (a power-of-two scaling) and below 2^(m+1), so the rounding is the only error.
        var q = (int)MathF.Round(magnitude / step, MidpointRounding.ToEven);
        // (exponent field << m) + fraction with q = 2^m + fraction. A carry (q = 2^(m+1)) lands on the next
        // exponent by itself, and in the subnormal range (field 1, q < 2^m) the formula gives q with field 0.
        var code = ((exponent + bias) << mantissaBits) + q - (1 << mantissaBits);
        return (byte)(sign | Math.Min(code, maxCode));
    }

    private static float[] Table(Fp8Format format) => format == Fp8Format.E4M3 ? s_e4m3 : s_e5m2;

    private static float[] BuildTable(Fp8Format format)
    {
        var table = new float[256];
        for (var code = 0; code < 256; code++)
        {
            table[code] = format == Fp8Format.E4M3 ? DecodeE4M3Bits((byte)code) : DecodeE5M2Bits((byte)code);
        }
        return table;
    }

    private static float DecodeE4M3Bits(byte code)
    {
        var sign = (uint)(code >> 7) << 31;
        var exponent = (code >> 3) & 0xF;
        var mantissa = (uint)(code & 0x7);
        if (exponent == 0xF && mantissa == 0x7)
        {
            return float.NaN;
        }
        if (exponent == 0)
        {
            // Subnormal: mantissa * 2^-9, exact in float32.
            var magnitude = mantissa * (1f / 512f);
            return sign != 0 ? -magnitude : magnitude;
        }
        var bits = sign | (uint)(exponent - 7 + 127) << 23 | mantissa << 20;
        return BitConverter.UInt32BitsToSingle(bits);
    }

    private static float DecodeE5M2Bits(byte code)
    {
        var sign = (uint)(code >> 7) << 31;
        var exponent = (code >> 2) & 0x1F;
        var mantissa = (uint)(code & 0x3);
        if (exponent == 0x1F)
        {
            return mantissa != 0 ? float.NaN : BitConverter.UInt32BitsToSingle(sign | 0x7F800000u);
        }
        if (exponent == 0)
        {
            // Subnormal: mantissa * 2^-16.
            var magnitude = mantissa * (1f / 65536f);
            return sign != 0 ? -magnitude : magnitude;
        }
        var bits = sign | (uint)(exponent - 15 + 127) << 23 | mantissa << 21;
        return BitConverter.UInt32BitsToSingle(bits);
    }
}
