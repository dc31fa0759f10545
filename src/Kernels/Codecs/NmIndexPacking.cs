namespace Optimizer.Kernels.Codecs;

/// <summary>
/// Packing of N:M sparse positions (docs/formats/n-m-sparse.md): each kept weight's position inside its group of M
/// consecutive input columns, 0 ≤ index &lt; M, stored in <see cref="IndexBits"/> bits.
/// </summary>
/// <remarks>
/// One little-endian bit stream per row: index <c>k</c> of a row sits at bits <c>[b·k, b·k + b)</c>, byte
/// <c>(b·k) / 8</c>, lowest bits first; each row starts on a byte boundary (its last byte is zero-padded). With
/// <c>b</c> a power of two (1, 2, 4 or 8) no index straddles a byte: for 2:4, one byte holds the 2 + 2 indices of two
/// groups.
/// </remarks>
public static class NmIndexPacking
{
    /// <summary>Bits per index for groups of <paramref name="m"/>: the smallest of 1, 2, 4, 8 with 2^bits ≥ m.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> is below 2 or above 256.</exception>
    public static int IndexBits(int m)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(m, 256);
        return m <= 2 ? 1 : m <= 4 ? 2 : m <= 16 ? 4 : 8;
    }

    /// <summary>Bytes of one packed row holding <paramref name="indicesPerRow"/> indices of <paramref name="bits"/> bits.</summary>
    public static int RowBytes(int indicesPerRow, int bits) => (int)(((long)indicesPerRow * bits + 7) / 8);

    /// <summary>Packs <paramref name="indices"/> laid out <c>[rows, indicesPerRow]</c> into <c>[rows, RowBytes]</c>.</summary>
    /// <exception cref="ArgumentException">A span length disagrees with the shape, or an index does not fit in <paramref name="bits"/>.</exception>
    public static void Pack(ReadOnlySpan<byte> indices, int rows, int indicesPerRow, int bits, Span<byte> packed)
    {
        var rowBytes = CheckShapes(indices.Length, packed.Length, rows, indicesPerRow, bits);
        var limit = 1 << bits;
        packed.Clear();
        for (var r = 0; r < rows; r++)
        {
            var source = indices.Slice(r * indicesPerRow, indicesPerRow);
            var target = packed.Slice(r * rowBytes, rowBytes);
            for (var k = 0; k < indicesPerRow; k++)
            {
                if (source[k] >= limit)
                {
                    throw new ArgumentException($"index {source[k]} at row {r}, position {k} does not fit in {bits} bits.", nameof(indices));
                }
                var bit = k * bits;
                target[bit >> 3] |= (byte)(source[k] << (bit & 7));
            }
        }
    }

    /// <summary>Unpacks <paramref name="packed"/> <c>[rows, RowBytes]</c> into <paramref name="indices"/> <c>[rows, indicesPerRow]</c>.</summary>
    /// <exception cref="ArgumentException">A span length disagrees with the shape.</exception>
    public static void Unpack(ReadOnlySpan<byte> packed, int rows, int indicesPerRow, int bits, Span<byte> indices)
    {
        var rowBytes = CheckShapes(indices.Length, packed.Length, rows, indicesPerRow, bits);
        var mask = (1 << bits) - 1;
        for (var r = 0; r < rows; r++)
        {
            var source = packed.Slice(r * rowBytes, rowBytes);
            var target = indices.Slice(r * indicesPerRow, indicesPerRow);
            for (var k = 0; k < indicesPerRow; k++)
            {
                var bit = k * bits;
                target[k] = (byte)((source[bit >> 3] >> (bit & 7)) & mask);
            }
        }
    }

    private static int CheckShapes(int indicesLength, int packedLength, int rows, int indicesPerRow, int bits)
    {
        if (bits is not (1 or 2 or 4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be 1, 2, 4 or 8.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(indicesPerRow);
        var rowBytes = RowBytes(indicesPerRow, bits);
        if (indicesLength != (long)rows * indicesPerRow)
        {
            throw new ArgumentException($"{indicesLength} indices do not fill [{rows}, {indicesPerRow}].");
        }
        if (packedLength != (long)rows * rowBytes)
        {
            throw new ArgumentException($"{packedLength} packed bytes do not fill [{rows}, {rowBytes}].");
        }
        return rowBytes;
    }
}
