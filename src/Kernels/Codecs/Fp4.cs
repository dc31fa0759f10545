namespace Optimizer.Kernels.Codecs;

/// <summary>
/// FP4 E2M1 (1 sign, 2 exponent, 1 mantissa bit, bias 1; no infinities or NaN) encode, decode and nibble packing
/// (ALGORITHMS.md 1.6). The 8 magnitudes are exactly {0, 0.5, 1, 1.5, 2, 3, 4, 6}; code <c>s·8 + index</c>.
/// </summary>
/// <remarks>
/// Encoding rounds to the nearest magnitude with ties to the even code (the even mantissa, as IEEE's
/// round-half-to-even: 0.25 → 0, 0.75 → 1, 5 → 4), saturates beyond ±6 (infinities too), and maps NaN to +0
/// because the format has no NaN. Packing is the OCP MX / NVFP4 convention: two codes per byte, the element
/// with the even index in the low nibble.
/// </remarks>
public static class Fp4
{
    /// <summary>Largest finite magnitude of E2M1.</summary>
    public const float MaxValue = 6f;

    private static readonly float[] s_magnitudes = [0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f];

    /// <summary>The 8 non-negative magnitudes in code order (index = code without the sign bit).</summary>
    public static ReadOnlySpan<float> Magnitudes => s_magnitudes;

    /// <summary>The value of a 4-bit code (the high 4 bits of <paramref name="code"/> are ignored).</summary>
    public static float Decode(int code)
    {
        var magnitude = s_magnitudes[code & 0x7];
        return (code & 0x8) != 0 ? -magnitude : magnitude;
    }

    /// <summary>The code nearest to <paramref name="value"/> (ties to the even code), saturating at ±6.</summary>
    public static byte Encode(float value)
    {
        if (float.IsNaN(value))
        {
            return 0;
        }
        var sign = float.IsNegative(value) ? 0x8 : 0;
        var magnitude = MathF.Abs(value);
        var index = 7;
        for (var i = 0; i < 7; i++)
        {
            var midpoint = 0.5f * (s_magnitudes[i] + s_magnitudes[i + 1]);
            if (magnitude < midpoint)
            {
                index = i;
                break;
            }
            if (magnitude == midpoint)
            {
                // Even index = even mantissa bit (the mantissa is the low bit of the index).
                index = (i & 1) == 0 ? i : i + 1;
                break;
            }
        }
        return (byte)(sign | index);
    }

    /// <summary>Bytes needed to pack <paramref name="count"/> codes (two per byte).</summary>
    public static int PackedLength(int count) => (count + 1) / 2;

    /// <summary>Packs 4-bit codes two per byte, even index in the low nibble; an odd tail leaves the last high nibble 0.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="PackedLength"/>.</exception>
    public static void Pack(ReadOnlySpan<byte> codes, Span<byte> destination)
    {
        if (destination.Length < PackedLength(codes.Length))
        {
            throw new ArgumentException("destination is shorter than the packed length", nameof(destination));
        }
        for (var i = 0; i < codes.Length; i += 2)
        {
            var high = i + 1 < codes.Length ? codes[i + 1] & 0xF : 0;
            destination[i / 2] = (byte)((codes[i] & 0xF) | (high << 4));
        }
    }

    /// <summary>Unpacks <paramref name="destination"/>.Length codes from nibbles (inverse of <see cref="Pack"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="packed"/> is shorter than the packed length of the destination.</exception>
    public static void Unpack(ReadOnlySpan<byte> packed, Span<byte> destination)
    {
        if (packed.Length < PackedLength(destination.Length))
        {
            throw new ArgumentException("packed is shorter than the destination needs", nameof(packed));
        }
        for (var i = 0; i < destination.Length; i++)
        {
            var b = packed[i / 2];
            destination[i] = (byte)((i & 1) == 0 ? b & 0xF : b >> 4);
        }
    }
}
