using System.Runtime.CompilerServices;

namespace Optimizer.Kernels.LowBit;

public static partial class QuantizedMatMul
{
    /// <summary>Activation code range the ternary kernel needs: four codes of at most 31 sum into an int8 table entry.</summary>
    public const int TernaryMaxCode = 31;

    /// <summary>
    /// <c>y [batch, out] = x · Wᵀ</c> for a two-trit-plane matrix by table lookup. Quantize the activations with
    /// <c>maxCode: <see cref="TernaryMaxCode"/></c> first.
    /// </summary>
    /// <remarks>Widths: AVX2, or the scalar reference (a 128-bit request, and groups of 4 or 8 inputs, run the scalar reference).</remarks>
    /// <exception cref="ArgumentException">The activations were quantized for another layout or code range, or <paramref name="y"/> has the wrong length.</exception>
    public static void Ternary(TernaryMatrix weight, QuantizedActivations x, Span<float> y,
        KernelWidth width = (KernelWidth)(-1), CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weight);
        CheckProduct(weight.Layout, weight.OutFeatures, x, y);
        if (x.MaxCode != TernaryMaxCode)
        {
            throw new ArgumentException($"quantize the activations with maxCode {TernaryMaxCode} for the ternary lookup tables.", nameof(x));
        }
        var vector = Resolve(width) == KernelWidth.Vector256 && TernaryLookup.Fits(weight.Layout);
        var work = (long)weight.OutFeatures * weight.Layout.PaddedIn * x.Batch;
        if (!vector)
        {
            ForRows(weight.Tiles, work, y, cancellationToken, (output, start, end) => TilesScalar(weight, x, output, start, end));
            return;
        }
        // Built once, before the threads start: every tile reads them.
        x.LookupTables();
        ForRows(weight.Tiles, work, y, cancellationToken, weight.Planes == 2
            ? (output, start, end) => Tiles256<TwoPlanes>(weight, x, output, start, end)
            : (output, start, end) => Tiles256<OnePlane>(weight, x, output, start, end));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tiles256<TPlanes>(TernaryMatrix weight, QuantizedActivations x, Span<float> y, int start, int end)
        where TPlanes : IPlaneCount
    {
        var tables = x.LookupTables();
        var blockScales = x.Scales;
        for (var tile = start; tile < end; tile++)
        {
            var rows = Math.Min(TernaryMatrix.TileRows, weight.OutFeatures - tile * TernaryMatrix.TileRows);
            var n = 0;
            for (; n + 4 <= x.Batch; n += 4)
            {
                TernaryLookup.Tile256<TPlanes, FourRows>(weight, tile, tables, blockScales, y, n, rows);
            }
            if (n + 2 <= x.Batch)
            {
                TernaryLookup.Tile256<TPlanes, TwoRows>(weight, tile, tables, blockScales, y, n, rows);
                n += 2;
            }
            if (n < x.Batch)
            {
                TernaryLookup.Tile256<TPlanes, OneRow>(weight, tile, tables, blockScales, y, n, rows);
            }
        }
    }

    private static void TilesScalar(TernaryMatrix weight, QuantizedActivations x, Span<float> y, int start, int end)
    {
        var layout = weight.Layout;
        for (var tile = start; tile < end; tile++)
        {
            var rows = Math.Min(TernaryMatrix.TileRows, weight.OutFeatures - tile * TernaryMatrix.TileRows);
            for (var n = 0; n < x.Batch; n++)
            {
                TernaryLookup.TileScalar(weight, tile, x.Codes.Slice(n * layout.PaddedIn, layout.PaddedIn),
                    x.Scales.Slice(n * layout.Blocks, layout.Blocks), y.Slice(n * weight.OutFeatures + tile * TernaryMatrix.TileRows, rows));
            }
        }
    }
}
