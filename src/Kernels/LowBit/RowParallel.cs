namespace Optimizer.Kernels.LowBit;

/// <summary>Runs a range of output rows on the calling thread, or in tiles across cores once the product is large.</summary>
internal static class RowParallel
{
    /// <summary>Weights per call below which one thread does all the work (thread hand-off costs more).</summary>
    public const long Threshold = 1L << 18;

    /// <summary>Rows per task: enough work to amortize scheduling, few enough to balance two to sixteen cores.</summary>
    private const int RowsPerTile = 64;

    public delegate void RowRange(int start, int end);

    /// <summary>Calls <paramref name="body"/> over <c>[0, rows)</c>; the token is checked between tiles only.</summary>
    public static void For(int rows, long work, CancellationToken cancellationToken, RowRange body)
    {
        if (work < Threshold || Environment.ProcessorCount == 1)
        {
            body(0, rows);
            return;
        }
        var tiles = (rows + RowsPerTile - 1) / RowsPerTile;
        Parallel.For(0, tiles, new ParallelOptions { CancellationToken = cancellationToken }, tile =>
        {
            var start = tile * RowsPerTile;
            body(start, Math.Min(start + RowsPerTile, rows));
        });
    }
}
