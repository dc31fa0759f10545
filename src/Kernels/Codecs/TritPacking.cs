namespace Optimizer.Kernels.Codecs;

/// <summary>
/// Packs ternary values {-1, 0, 1} five to a byte (3^5 = 243 ≤ 256, 1.6 bits per trit; ALGORITHMS.md 1.7).
/// </summary>
/// <remarks>
/// A trit t is stored as the digit <c>t + 1</c> ∈ {0, 1, 2}; a byte is <c>Σ_{i&lt;5} digit_i · 3^i</c> with the first trit
/// as the least significant digit, so bytes are 0..242. A tail of fewer than five trits is padded with zero trits
/// (digit 1). Bytes 243..255 are never written; unpacking one is an error in the data.
/// </remarks>
public static class TritPacking
{
    /// <summary>Trits per byte.</summary>
    public const int TritsPerByte = 5;

    private static readonly int[] s_powers = [1, 3, 9, 27, 81];

    /// <summary>Bytes needed for <paramref name="count"/> trits.</summary>
    public static int PackedLength(int count) => (count + TritsPerByte - 1) / TritsPerByte;

    /// <summary>Packs trits (each -1, 0 or 1) five per byte.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short, or a value is not a trit.</exception>
    public static void Pack(ReadOnlySpan<sbyte> trits, Span<byte> destination)
    {
        if (destination.Length < PackedLength(trits.Length))
        {
            throw new ArgumentException("destination is shorter than the packed length", nameof(destination));
        }
        foreach (var t in trits)
        {
            if (t is < -1 or > 1)
            {
                throw new ArgumentException($"{t} is not a trit (-1, 0 or 1)", nameof(trits));
            }
        }
        for (var b = 0; b < PackedLength(trits.Length); b++)
        {
            var value = 0;
            for (var i = 0; i < TritsPerByte; i++)
            {
                var index = b * TritsPerByte + i;
                var digit = index < trits.Length ? trits[index] + 1 : 1;
                value += digit * s_powers[i];
            }
            destination[b] = (byte)value;
        }
    }

    /// <summary>Unpacks <paramref name="destination"/>.Length trits (inverse of <see cref="Pack"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="packed"/> is too short or holds a byte above 242.</exception>
    public static void Unpack(ReadOnlySpan<byte> packed, Span<sbyte> destination)
    {
        if (packed.Length < PackedLength(destination.Length))
        {
            throw new ArgumentException("packed is shorter than the destination needs", nameof(packed));
        }
        for (var b = 0; b < PackedLength(destination.Length); b++)
        {
            int value = packed[b];
            if (value > 242)
            {
                throw new ArgumentException($"byte {b} is {value}, above 242: not a trit-packed byte", nameof(packed));
            }
            for (var i = 0; i < TritsPerByte; i++)
            {
                var index = b * TritsPerByte + i;
                if (index < destination.Length)
                {
                    destination[index] = (sbyte)(value % 3 - 1);
                }
                value /= 3;
            }
        }
    }
}
