namespace Optimizer.Worker.Spectral;

/// <summary>The grid of equal-shape submatrices FARMS pools for one matrix.</summary>
/// <remarks>
/// Steps follow the reference: <c>row_step = max(1, (rows − r) / (k − 1))</c>, at most k windows per dimension, starts
/// clamped to stay inside the matrix. Deliberate difference: when the matrix is smaller than a window (a 128-wide
/// layer with 200-column windows) the reference's negative start silently slices the last columns; here the window
/// shrinks to <c>r = min(RowSamples, rows, ⌊cols / Q⌋)</c> rows and <c>Q·r</c> columns, keeping the aspect ratio
/// that FARMS is about.
/// </remarks>
public sealed record SubmatrixWindows(long Rows, long Columns, IReadOnlyList<(long Row, long Column)> Starts)
{
    public int Count => Starts.Count;

    /// <summary>The windows of a <paramref name="rows"/> × <paramref name="columns"/> matrix.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension or setting is not positive.</exception>
    public static SubmatrixWindows For(long rows, long columns, FarmsSampling sampling)
    {
        ArgumentNullException.ThrowIfNull(sampling);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampling.RowSamples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampling.WindowsPerDimension, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampling.AspectRatio);

        var windowRows = Math.Max(1, Math.Min(Math.Min(sampling.RowSamples, rows), (long)Math.Floor(columns / sampling.AspectRatio)));
        var windowColumns = Math.Clamp((long)Math.Round(windowRows * sampling.AspectRatio), 1, columns);
        var rowStarts = GridStarts(rows, windowRows, sampling.WindowsPerDimension);
        var columnStarts = GridStarts(columns, windowColumns, sampling.WindowsPerDimension);
        var starts = rowStarts.SelectMany(r => columnStarts.Select(c => (r, c))).ToList();
        return new SubmatrixWindows(windowRows, windowColumns, starts);
    }

    private static List<long> GridStarts(long size, long window, int perDimension)
    {
        var step = Math.Max(1, (size - window) / (perDimension - 1));
        var count = Math.Min(perDimension, Math.Max(1, (size - window) / step + 1));
        return [.. Enumerable.Range(0, (int)count).Select(i => Math.Min(i * step, size - window))];
    }
}
