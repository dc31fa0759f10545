namespace Optimizer.Worker.Modeling;

/// <summary>
/// Exact FP8 to float32 decoding for the two safetensors FP8 dtypes (OCP FP8: E4M3 "fn" without
/// infinities, E5M2 IEEE-like). Every FP8 value is representable in float32, so decoding is exact.
/// </summary>
/// <remarks>Bit-level construction of the float32 so the tests can check it against the arithmetic formula.</remarks>
public static class Fp8Decoder
{
    private static readonly float[] s_e4m3 = BuildTable(DecodeE4M3Bits);
    private static readonly float[] s_e5m2 = BuildTable(DecodeE5M2Bits);

    /// <summary>E4M3FN: bias 7, S.1111.111 is NaN, no infinities, max ±448.</summary>
    public static float DecodeE4M3(byte code) => s_e4m3[code];

    /// <summary>E5M2: bias 15, exponent 31 is infinity (mantissa 0) or NaN, max ±57344.</summary>
    public static float DecodeE5M2(byte code) => s_e5m2[code];

    /// <summary>Decodes a buffer of FP8 codes of the given dtype into float32 values.</summary>
    public static void Decode(ReadOnlySpan<byte> codes, bool e4m3, Span<float> destination)
    {
        if (destination.Length < codes.Length)
        {
            throw new ArgumentException("destination is shorter than the input", nameof(destination));
        }
        var table = e4m3 ? s_e4m3 : s_e5m2;
        for (var i = 0; i < codes.Length; i++)
        {
            destination[i] = table[codes[i]];
        }
    }

    private static float[] BuildTable(Func<byte, float> decode)
    {
        var table = new float[256];
        for (var code = 0; code < 256; code++)
        {
            table[code] = decode((byte)code);
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
