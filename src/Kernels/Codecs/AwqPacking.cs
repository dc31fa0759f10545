namespace Optimizer.Kernels.Codecs;

/// <summary>
/// Bit packing of AutoAWQ's "GEMM" checkpoint layout (ALGORITHMS.md "Artifact formats"; docs/formats/awq-packing.md):
/// 4-bit codes, eight per int32 along the <i>output</i> dimension, nibble <c>j</c> (bits <c>4j .. 4j+3</c>) of word
/// <c>c</c> holding column <c>8c + Order[j]</c> with <c>Order = (0, 2, 4, 6, 1, 3, 5, 7)</c>.
/// </summary>
public static class AwqPacking
{
    public const int Bits = 4;
    public const int PerWord = 8;

    /// <summary>The column each nibble holds, nibble 0 first.</summary>
    public static ReadOnlySpan<int> Order => [0, 2, 4, 6, 1, 3, 5, 7];

    /// <summary>Packs 4-bit <paramref name="values"/> <c>[rows, columns]</c> into <paramref name="packed"/> <c>[rows, columns / 8]</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="columns"/> is not a multiple of 8, or a span has the wrong length.</exception>
    public static void Pack(ReadOnlySpan<int> values, int rows, int columns, Span<int> packed)
    {
        var words = WordsPerRow(columns);
        RtnQuantizer.CheckLength(values.Length, (long)rows * columns, nameof(values));
        RtnQuantizer.CheckLength(packed.Length, (long)rows * words, nameof(packed));
        var order = Order;
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < words; c++)
            {
                var word = 0u;
                for (var j = 0; j < PerWord; j++)
                {
                    word |= ((uint)values[r * columns + c * PerWord + order[j]] & 0xF) << (Bits * j);
                }
                packed[r * words + c] = (int)word;
            }
        }
    }

    /// <summary>Inverse of <see cref="Pack"/>.</summary>
    public static void Unpack(ReadOnlySpan<int> packed, int rows, int columns, Span<int> values)
    {
        var words = WordsPerRow(columns);
        RtnQuantizer.CheckLength(values.Length, (long)rows * columns, nameof(values));
        RtnQuantizer.CheckLength(packed.Length, (long)rows * words, nameof(packed));
        var order = Order;
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < words; c++)
            {
                var word = (uint)packed[r * words + c];
                for (var j = 0; j < PerWord; j++)
                {
                    values[r * columns + c * PerWord + order[j]] = (int)((word >> (Bits * j)) & 0xF);
                }
            }
        }
    }

    /// <summary>int32 words per row of <paramref name="columns"/> codes.</summary>
    public static int WordsPerRow(int columns)
    {
        if (columns <= 0 || columns % PerWord != 0)
        {
            throw new ArgumentException($"AWQ packs 8 codes per int32: {columns} columns is not a positive multiple of 8.", nameof(columns));
        }
        return columns / PerWord;
    }
}
