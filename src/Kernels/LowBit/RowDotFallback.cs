namespace Optimizer.Kernels.LowBit;

/// <summary>Four activation rows as four single-row dots: for the paths that cannot share a decode across rows.</summary>
internal static class RowDotFallback
{
    public static void FourByOne<TDot>(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results)
        where TDot : IRowDot
    {
        for (var r = 0; r < 4; r++)
        {
            results[r] = TDot.Dot1(weights, x.Slice(r * layout.PaddedIn), blockScales.Slice(r * layout.Blocks), groupScales, layout);
        }
    }
}
