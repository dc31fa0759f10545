namespace Optimizer.Kernels.Codecs;

/// <summary>
/// Packs signs one bit per element (BitStack's sign matrices, ALGORITHMS.md 1.8): bit <c>i % 8</c> of byte <c>i / 8</c>
/// (least significant first) is 1 for a negative value and 0 for a non-negative one, so <c>sign(0) = +1</c>.
/// </summary>
public static class SignPacking
{
    /// <summary>Bytes for <paramref name="count"/> signs.</summary>
    public static int PackedLength(int count) => (count + 7) / 8;

    /// <summary>Packs the signs of <paramref name="values"/> (negative → 1; zero and NaN → 0).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the packed length.</exception>
    public static void Pack(ReadOnlySpan<float> values, Span<byte> destination)
    {
        if (destination.Length < PackedLength(values.Length))
        {
            throw new ArgumentException("destination is shorter than the packed length", nameof(destination));
        }
        destination[..PackedLength(values.Length)].Clear();
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] < 0f)
            {
                destination[i >> 3] |= (byte)(1 << (i & 7));
            }
        }
    }

    /// <summary>Writes ±1 for each of <paramref name="destination"/>.Length packed signs.</summary>
    /// <exception cref="ArgumentException"><paramref name="packed"/> is shorter than the destination needs.</exception>
    public static void Unpack(ReadOnlySpan<byte> packed, Span<float> destination)
    {
        if (packed.Length < PackedLength(destination.Length))
        {
            throw new ArgumentException("packed is shorter than the destination needs", nameof(packed));
        }
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (packed[i >> 3] & (1 << (i & 7))) != 0 ? -1f : 1f;
        }
    }
}
