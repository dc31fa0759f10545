namespace Optimizer.Kernels.Codecs;

/// <summary>
/// PTQTP for a row-major <c>[rows, columns]</c> matrix (ALGORITHMS.md 1.7): every row group of <c>groupSize</c> weights is
/// fitted as <c>a1·t1 + a2·t2</c> by <see cref="TritPlaneFit"/>; the two planes are packed row by row, five trits a byte
/// (<see cref="TritPacking"/>), and the scales are <c>[rows, groups, 2]</c>.
/// </summary>
public static class TritPlaneQuantizer
{
    /// <summary>Groups per row: <c>columns / groupSize</c>, or 1 when <paramref name="groupSize"/> is -1.</summary>
    public static int GroupCount(int columns, int groupSize) => groupSize == -1 ? 1 : columns / groupSize;

    /// <summary>True when <paramref name="groupSize"/> (or -1) divides <paramref name="columns"/>.</summary>
    public static bool Supports(int columns, int groupSize) => groupSize == -1 || (groupSize > 0 && columns % groupSize == 0);

    /// <summary>Bytes of one packed plane: <c>rows · ceil(columns / 5)</c>.</summary>
    public static int PlaneLength(int rows, int columns) => rows * TritPacking.PackedLength(columns);

    /// <summary>Fits every group and packs the planes; returns the total squared reconstruction error.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the shape, or the group size does not divide the columns.</exception>
    public static double Quantize(ReadOnlySpan<float> weight, int rows, int columns, int groupSize, TritPlaneFitOptions options,
        Span<byte> plane1, Span<byte> plane2, Span<float> alphas)
    {
        Check(weight.Length, plane1.Length, plane2.Length, alphas.Length, rows, columns, groupSize);
        var groups = GroupCount(columns, groupSize);
        var width = columns / groups;
        var rowBytes = TritPacking.PackedLength(columns);
        var t1 = new sbyte[columns];
        var t2 = new sbyte[columns];
        var total = 0.0;
        for (var r = 0; r < rows; r++)
        {
            for (var g = 0; g < groups; g++)
            {
                var (a1, a2, error) = TritPlaneFit.Fit(weight.Slice(r * columns + g * width, width),
                    t1.AsSpan(g * width, width), t2.AsSpan(g * width, width), options);
                alphas[(r * groups + g) * 2] = a1;
                alphas[(r * groups + g) * 2 + 1] = a2;
                total += error;
            }
            TritPacking.Pack(t1, plane1.Slice(r * rowBytes, rowBytes));
            TritPacking.Pack(t2, plane2.Slice(r * rowBytes, rowBytes));
        }
        return total;
    }

    /// <summary>Dense float32 weights <c>a1·t1 + a2·t2</c> from packed planes and scales.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the shape.</exception>
    public static void Dequantize(ReadOnlySpan<byte> plane1, ReadOnlySpan<byte> plane2, ReadOnlySpan<float> alphas,
        int rows, int columns, int groupSize, Span<float> destination)
    {
        Check(destination.Length, plane1.Length, plane2.Length, alphas.Length, rows, columns, groupSize);
        var groups = GroupCount(columns, groupSize);
        var width = columns / groups;
        var rowBytes = TritPacking.PackedLength(columns);
        var t1 = new sbyte[columns];
        var t2 = new sbyte[columns];
        for (var r = 0; r < rows; r++)
        {
            TritPacking.Unpack(plane1.Slice(r * rowBytes, rowBytes), t1);
            TritPacking.Unpack(plane2.Slice(r * rowBytes, rowBytes), t2);
            for (var c = 0; c < columns; c++)
            {
                var a = (r * groups + c / width) * 2;
                destination[r * columns + c] = alphas[a] * t1[c] + alphas[a + 1] * t2[c];
            }
        }
    }

    private static void Check(int weights, int plane1, int plane2, int alphas, int rows, int columns, int groupSize)
    {
        if (!Supports(columns, groupSize))
        {
            throw new ArgumentException($"group size {groupSize} does not divide {columns} columns");
        }
        if (weights != (long)rows * columns || plane1 != PlaneLength(rows, columns) || plane2 != plane1
            || alphas != (long)rows * GroupCount(columns, groupSize) * 2)
        {
            throw new ArgumentException($"spans do not match a {rows}x{columns} matrix with group size {groupSize}");
        }
    }
}
