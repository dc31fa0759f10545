namespace Optimizer.Kernels.Codecs;

/// <summary>
/// Group-wise FP4 (E2M1) quantization of a row-major <c>[rows, columns]</c> matrix (ALGORITHMS.md 1.6):
/// <c>scale = absmax / 6</c> per group, optionally constrained (<see cref="Fp4ScaleConstraint"/>),
/// <c>code = cast_rne(w / scale)</c>, <c>ŵ = decode(code) · scale</c>.
/// </summary>
/// <remarks>
/// Every scale is the product <c>rowScale[r] · groupScale[r, g]</c>. Without the M2 constraint the row scales are 1;
/// under M1 and M2 every group scale is an exact power of two, so FP4 codes upcast to FP8 by an exponent shift.
/// An all-zero group gets group scale 1 (its codes are 0 anyway), an all-zero row row scale 1.
/// Scale layout: <c>groupScales</c> is <c>[rows, columns / groupSize]</c> row-major, <c>rowScales</c> is <c>[rows]</c>.
/// </remarks>
public static class Fp4Quantizer
{
    /// <summary>Groups per row: <c>columns / groupSize</c>, or 1 when <paramref name="groupSize"/> is -1 (one group per row).</summary>
    public static int GroupCount(int columns, int groupSize) => groupSize == -1 ? 1 : columns / groupSize;

    /// <summary>True when the shape can be grouped: an even column count divisible by the group size.</summary>
    public static bool Supports(int columns, int groupSize) =>
        columns % 2 == 0 && (groupSize == -1 || (groupSize > 0 && groupSize % 2 == 0 && columns % groupSize == 0));

    /// <summary>Group and row scales of <paramref name="weight"/> under <paramref name="constraint"/>.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the shape, or the shape cannot be grouped.</exception>
    public static void ComputeScales(ReadOnlySpan<float> weight, int rows, int columns, int groupSize, Fp4ScaleConstraint constraint,
        Span<float> groupScales, Span<float> rowScales)
    {
        Check(weight.Length, groupScales.Length, rowScales.Length, rows, columns, groupSize);
        var groups = GroupCount(columns, groupSize);
        var width = columns / groups;
        for (var r = 0; r < rows; r++)
        {
            var rowGroups = groupScales.Slice(r * groups, groups);
            var rowScale = 1f;
            if (constraint == Fp4ScaleConstraint.RowPow2)
            {
                rowScale = RowScale(AbsMax(weight.Slice(r * columns, columns)));
            }
            else if (constraint is not (Fp4ScaleConstraint.None or Fp4ScaleConstraint.Pow2))
            {
                throw new ArgumentOutOfRangeException(nameof(constraint), constraint, "unknown scale constraint");
            }
            rowScales[r] = rowScale;
            for (var g = 0; g < groups; g++)
            {
                rowGroups[g] = GroupScale(AbsMax(weight.Slice(r * columns + g * width, width)), constraint, rowScale);
            }
        }
    }

    /// <summary>
    /// M2's real scale of a row whose largest magnitude is <paramref name="rowAbsMax"/>: <c>absmax / 6</c> (the largest
    /// of its groups' scales), 1 for an all-zero row. The other constraints have no row scale (1).
    /// </summary>
    public static float RowScale(float rowAbsMax) => rowAbsMax > 0f ? rowAbsMax / Fp4.MaxValue : 1f;

    /// <summary>
    /// The group scale of a group whose largest magnitude is <paramref name="groupAbsMax"/> under <paramref name="constraint"/>
    /// (for M2, the power-of-two factor below <paramref name="rowScale"/>); 1 for an all-zero group.
    /// </summary>
    /// <remarks>Shared with GPTQ rounding onto the FP4 grid, which fits one group at a time.</remarks>
    public static float GroupScale(float groupAbsMax, Fp4ScaleConstraint constraint, float rowScale)
    {
        var s = groupAbsMax / Fp4.MaxValue;
        return constraint switch
        {
            Fp4ScaleConstraint.None => s > 0f ? s : 1f,
            Fp4ScaleConstraint.Pow2 => s > 0f ? CeilPow2(s) : 1f,
            // k = floor(log2(S_row / s)) >= 0, so S_row·2^-k >= s: the group's absmax never saturates.
            Fp4ScaleConstraint.RowPow2 => MathF.ScaleB(1f, -(s > 0f ? Math.Clamp(MathF.ILogB(rowScale / s), 0, 126) : 0)),
            _ => throw new ArgumentOutOfRangeException(nameof(constraint), constraint, "unknown scale constraint"),
        };
    }

    /// <summary>Packed codes (two per byte, <see cref="Fp4.Pack"/>) of <c>w / (rowScale · groupScale)</c>.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the shape.</exception>
    public static void Encode(ReadOnlySpan<float> weight, ReadOnlySpan<float> groupScales, ReadOnlySpan<float> rowScales,
        int rows, int columns, int groupSize, Span<byte> packed)
    {
        Check(weight.Length, groupScales.Length, rowScales.Length, rows, columns, groupSize);
        CheckPacked(packed.Length, rows, columns);
        var groups = GroupCount(columns, groupSize);
        var width = columns / groups;
        Span<byte> codes = stackalloc byte[2];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c += 2)
            {
                var scale = rowScales[r] * groupScales[r * groups + c / width];
                codes[0] = Fp4.Encode(weight[r * columns + c] / scale);
                codes[1] = Fp4.Encode(weight[r * columns + c + 1] / scale);
                Fp4.Pack(codes, packed.Slice((r * columns + c) / 2, 1));
            }
        }
    }

    /// <summary>Dense float32 weights from packed codes and their scales.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the shape.</exception>
    public static void Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> groupScales, ReadOnlySpan<float> rowScales,
        int rows, int columns, int groupSize, Span<float> destination)
    {
        Check(destination.Length, groupScales.Length, rowScales.Length, rows, columns, groupSize);
        CheckPacked(packed.Length, rows, columns);
        var groups = GroupCount(columns, groupSize);
        var width = columns / groups;
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                var index = r * columns + c;
                var b = packed[index / 2];
                var code = (index & 1) == 0 ? b & 0xF : b >> 4;
                destination[index] = Fp4.Decode(code) * (rowScales[r] * groupScales[r * groups + c / width]);
            }
        }
    }

    /// <summary><c>2^ceil(log2 s)</c> for a positive finite <paramref name="s"/>: the smallest power of two ≥ s (M1).</summary>
    public static float CeilPow2(float s)
    {
        var exponent = MathF.ILogB(s);
        var floor = MathF.ScaleB(1f, exponent);
        return floor < s ? floor * 2f : floor;
    }

    /// <summary>Encodes a power of two as an OCP E8M0 byte (<c>2^(e - 127)</c>), clamping the exponent to [-127, 127].</summary>
    public static byte ToE8M0(float powerOfTwo) => (byte)(Math.Clamp(MathF.ILogB(powerOfTwo), -127, 127) + 127);

    /// <summary>The power of two an E8M0 byte stands for (255 is the format's NaN).</summary>
    public static float FromE8M0(byte e8m0) => e8m0 == 255 ? float.NaN : MathF.ScaleB(1f, e8m0 - 127);

    /// <summary>The largest magnitude in <paramref name="values"/> (0 when empty).</summary>
    public static float AbsMax(ReadOnlySpan<float> values)
    {
        var max = 0f;
        foreach (var v in values)
        {
            max = MathF.Max(max, MathF.Abs(v));
        }
        return max;
    }

    private static void Check(int weights, int groupScales, int rowScales, int rows, int columns, int groupSize)
    {
        if (!Supports(columns, groupSize))
        {
            throw new ArgumentException($"{columns} columns cannot be split into FP4 groups of {groupSize}");
        }
        if (weights != (long)rows * columns)
        {
            throw new ArgumentException($"expected {rows}x{columns} weights, got {weights}");
        }
        if (groupScales != (long)rows * GroupCount(columns, groupSize) || rowScales != rows)
        {
            throw new ArgumentException($"expected {rows}x{GroupCount(columns, groupSize)} group scales and {rows} row scales, got {groupScales} and {rowScales}");
        }
    }

    private static void CheckPacked(int packed, int rows, int columns)
    {
        if (packed != (long)rows * columns / 2)
        {
            throw new ArgumentException($"expected {(long)rows * columns / 2} packed bytes, got {packed}");
        }
    }
}
