namespace Optimizer.Worker.Spectral;

/// <summary>
/// FARMS submatrix sampling (ALGORITHMS.md 2.5, the reference's <c>fixed_sampling</c>): windows of
/// <see cref="RowSamples"/> rows × <see cref="AspectRatio"/>·<see cref="RowSamples"/> columns on a grid of up to
/// <see cref="WindowsPerDimension"/> windows per dimension.
/// </summary>
/// <param name="RowSamples">Rows per window (FARMS default 100).</param>
/// <param name="AspectRatio">Columns / rows of a window, FARMS's Q (default 2).</param>
/// <param name="WindowsPerDimension">Grid size per dimension (default 10, so at most 100 windows).</param>
public sealed record FarmsSampling(int RowSamples = 100, double AspectRatio = 2.0, int WindowsPerDimension = 10)
{
    public static FarmsSampling Default { get; } = new();
}
