namespace Optimizer.Kernels.Codecs;

/// <summary>
/// Bit packing of the GPTQ checkpoint format (ALGORITHMS.md "Artifact formats"; docs/formats/gptq-packing.md).
/// </summary>
/// <remarks>
/// Codes are packed as one little-endian bit stream per column: element <c>k</c> of the packed dimension
/// occupies bits <c>[b·k, b·k + b)</c> of the stream, word <c>(b·k) / 32</c>, lowest bits first. For 2, 4 and 8
/// bits this is exactly the classic layout (<c>32 / b</c> codes per word, code <c>j</c> at bits <c>b·j</c>); for
/// 3 bits it is exactly GPTQ's 3-bit layout (32 codes in 3 words, codes 10 and 21 straddling a word boundary).
/// 5, 6 and 7 bits use the same stream; no other tool reads those.
/// The packed dimension must hold a multiple of 32 / gcd(b, 32) elements so that it ends on a word boundary.
/// </remarks>
public static class GptqPacking
{
    /// <summary>Number of int32 words that hold <paramref name="count"/> codes of <paramref name="bits"/> bits.</summary>
    /// <exception cref="ArgumentException"><paramref name="count"/>·bits is not a multiple of 32.</exception>
    public static int PackedLength(int count, int bits)
    {
        if (bits is < RtnSpec.MinBits or > RtnSpec.MaxBits)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be between 2 and 8.");
        }
        var totalBits = (long)count * bits;
        if (totalBits % 32 != 0)
        {
            throw new ArgumentException(
                $"{count} codes of {bits} bits do not end on an int32 boundary (need a multiple of {32 / Gcd(bits, 32)}).",
                nameof(count));
        }
        return (int)(totalBits / 32);
    }

    /// <summary>True when <paramref name="count"/> codes of <paramref name="bits"/> bits pack into whole words.</summary>
    public static bool CanPack(int count, int bits) => count > 0 && (long)count * bits % 32 == 0;

    /// <summary>
    /// Packs <paramref name="codes"/> laid out <c>[rows, columns]</c> along the rows:
    /// <paramref name="packed"/> is <c>[PackedLength(rows), columns]</c>.
    /// </summary>
    public static void PackRows(ReadOnlySpan<int> codes, int rows, int columns, int bits, Span<int> packed)
    {
        var words = PackedLength(rows, bits);
        RtnQuantizer.CheckLength(codes.Length, (long)rows * columns, nameof(codes));
        RtnQuantizer.CheckLength(packed.Length, (long)words * columns, nameof(packed));
        packed.Clear();
        var mask = (1u << bits) - 1;
        for (var r = 0; r < rows; r++)
        {
            var bit = r * bits;
            var word = bit >> 5;
            var offset = bit & 31;
            var spill = offset + bits - 32;
            for (var c = 0; c < columns; c++)
            {
                var value = (uint)codes[r * columns + c] & mask;
                packed[word * columns + c] |= (int)(value << offset);
                if (spill > 0)
                {
                    packed[(word + 1) * columns + c] |= (int)(value >> (bits - spill));
                }
            }
        }
    }

    /// <summary>Inverse of <see cref="PackRows"/>.</summary>
    public static void UnpackRows(ReadOnlySpan<int> packed, int rows, int columns, int bits, Span<int> codes)
    {
        var words = PackedLength(rows, bits);
        RtnQuantizer.CheckLength(codes.Length, (long)rows * columns, nameof(codes));
        RtnQuantizer.CheckLength(packed.Length, (long)words * columns, nameof(packed));
        var mask = (1u << bits) - 1;
        for (var r = 0; r < rows; r++)
        {
            var bit = r * bits;
            var word = bit >> 5;
            var offset = bit & 31;
            var spill = offset + bits - 32;
            for (var c = 0; c < columns; c++)
            {
                var value = (uint)packed[word * columns + c] >> offset;
                if (spill > 0)
                {
                    value |= (uint)packed[(word + 1) * columns + c] << (bits - spill);
                }
                codes[r * columns + c] = (int)(value & mask);
            }
        }
    }

    /// <summary>
    /// Packs <paramref name="values"/> laid out <c>[rows, columns]</c> along the columns (each row its own stream):
    /// <paramref name="packed"/> is <c>[rows, PackedLength(columns)]</c>.
    /// </summary>
    public static void PackColumns(ReadOnlySpan<int> values, int rows, int columns, int bits, Span<int> packed)
    {
        var words = PackedLength(columns, bits);
        RtnQuantizer.CheckLength(values.Length, (long)rows * columns, nameof(values));
        RtnQuantizer.CheckLength(packed.Length, (long)rows * words, nameof(packed));
        for (var r = 0; r < rows; r++)
        {
            // A row packed along its columns is a [columns, 1] matrix packed along its rows.
            PackRows(values.Slice(r * columns, columns), columns, 1, bits, packed.Slice(r * words, words));
        }
    }

    /// <summary>Inverse of <see cref="PackColumns"/>.</summary>
    public static void UnpackColumns(ReadOnlySpan<int> packed, int rows, int columns, int bits, Span<int> values)
    {
        var words = PackedLength(columns, bits);
        RtnQuantizer.CheckLength(values.Length, (long)rows * columns, nameof(values));
        RtnQuantizer.CheckLength(packed.Length, (long)rows * words, nameof(packed));
        for (var r = 0; r < rows; r++)
        {
            UnpackRows(packed.Slice(r * words, words), columns, 1, bits, values.Slice(r * columns, columns));
        }
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
