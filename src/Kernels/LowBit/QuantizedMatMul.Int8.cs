using System.Runtime.CompilerServices;

namespace Optimizer.Kernels.LowBit;

public static partial class QuantizedMatMul
{
    /// <summary>
    /// AVX2 int8 for two or more activation rows: <see cref="Int8Tile256"/> over pairs of weight rows. Within one task's
    /// rows the activation rows are the outer loop (four at a time), so those four rows' codes stay in L1 while the task's
    /// weight rows (64 × in bytes, within L2) stream past them once per four activation rows.
    /// </summary>
    private static void Int8Tiles(Int8Matrix weight, QuantizedActivations x, Span<float> y, CancellationToken cancellationToken)
    {
        CheckProduct(weight.Layout, weight.OutFeatures, x, y);
        ForRows(weight.OutFeatures, (long)weight.OutFeatures * weight.Layout.PaddedIn * x.Batch, y, cancellationToken,
            (output, start, end) => Int8TileRows(weight, x, output, start, end));
    }

    private static void Int8TileRows(Int8Matrix weight, QuantizedActivations x, Span<float> y, int start, int end)
    {
        var n = 0;
        for (; n + 4 <= x.Batch; n += 4)
        {
            Int8TilePass<FourRows>(weight, x, y, start, end, n);
        }
        if (n + 2 <= x.Batch)
        {
            Int8TilePass<TwoRows>(weight, x, y, start, end, n);
            n += 2;
        }
        if (n < x.Batch)
        {
            Int8TilePass<OneRow>(weight, x, y, start, end, n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Int8TilePass<TRows>(Int8Matrix weight, QuantizedActivations x, Span<float> y, int start, int end, int n0)
        where TRows : IBatchRows
    {
        var o = start;
        for (; o + 2 <= end; o += 2)
        {
            Int8Tile256.Run<TRows>(weight, x, o, n0, y);
        }
        if (o < end)
        {
            // An odd last row: one-row dots.
            var layout = weight.Layout;
            var scales = weight.Scales.AsSpan(o * layout.Groups, layout.Groups);
            var mins = weight.Mins.AsSpan(o * layout.Groups, layout.Groups);
            var row = weight.Codes.AsSpan(o * layout.PaddedIn, layout.PaddedIn);
            for (var n = n0; n < n0 + TRows.Count; n++)
            {
                var dot = Int8Dot256.Dot1(row, x.Codes.Slice(n * layout.PaddedIn, layout.PaddedIn), x.Scales.Slice(n * layout.Blocks, layout.Blocks), scales, layout);
                y[n * weight.OutFeatures + o] = dot - MinTerm(mins, x.GroupSums.Slice(n * layout.Groups, layout.Groups));
            }
        }
    }
}
