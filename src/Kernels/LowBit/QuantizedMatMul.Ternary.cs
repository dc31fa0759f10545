namespace Optimizer.Kernels.LowBit;

public static partial class QuantizedMatMul
{
    /// <summary>Activation code range the ternary kernel needs: four codes of at most 31 sum into an int8 table entry.</summary>
    public const int TernaryMaxCode = 31;

    /// <summary>
    /// <c>y [batch, out] = x · Wᵀ</c> for a two-trit-plane matrix by table lookup. Quantize the activations with
    /// <c>maxCode: <see cref="TernaryMaxCode"/></c> first.
    /// </summary>
    /// <remarks>Widths: AVX2, or the scalar reference (a 128-bit request runs the scalar reference).</remarks>
    /// <exception cref="ArgumentException">The activations were quantized for another layout or code range, or <paramref name="y"/> has the wrong length.</exception>
    public static unsafe void Ternary(TernaryMatrix weight, QuantizedActivations x, Span<float> y,
        KernelWidth width = (KernelWidth)(-1), CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(x);
        if (!ReferenceEquals(x.Layout, weight.Layout) || x.MaxCode != TernaryMaxCode)
        {
            throw new ArgumentException($"quantize the activations for this matrix's layout with maxCode {TernaryMaxCode}.", nameof(x));
        }
        if (y.Length != (long)x.Batch * weight.OutFeatures)
        {
            throw new ArgumentException($"y has {y.Length} values; [batch {x.Batch}, out {weight.OutFeatures}] needs {(long)x.Batch * weight.OutFeatures}.", nameof(y));
        }
        var vector = Resolve(width) == KernelWidth.Vector256;
        var layout = weight.Layout;
        var tablesLength = x.Batch * layout.PaddedIn / 4 * 16;
        // Built once, before the threads start: every tile reads them.
        var tables = x.LookupTables();
        fixed (sbyte* tablePointer = tables)
        fixed (float* output = y)
        {
            var (t, o, length) = ((nint)tablePointer, (nint)output, y.Length);
            RowParallel.For(weight.Tiles, (long)weight.OutFeatures * layout.PaddedIn * x.Batch, cancellationToken, (start, end) =>
            {
                var all = new Span<float>((void*)o, length);
                for (var tile = start; tile < end; tile++)
                {
                    var rows = Math.Min(TernaryMatrix.TileRows, weight.OutFeatures - tile * TernaryMatrix.TileRows);
                    for (var n = 0; n < x.Batch; n++)
                    {
                        var destination = all.Slice(n * weight.OutFeatures + tile * TernaryMatrix.TileRows, rows);
                        var blockScales = x.Scales.Slice(n * layout.Blocks, layout.Blocks);
                        if (vector)
                        {
                            var steps = layout.PaddedIn / 4;
                            TernaryLookup.Tile256(weight, tile, new ReadOnlySpan<sbyte>((void*)t, tablesLength).Slice(n * steps * 16, steps * 16), blockScales, destination);
                        }
                        else
                        {
                            TernaryLookup.TileScalar(weight, tile, x.Codes.Slice(n * layout.PaddedIn, layout.PaddedIn), blockScales, destination);
                        }
                    }
                }
            });
        }
    }
}
