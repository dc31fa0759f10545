using Optimizer.Domain.Methods.Prune;

namespace Optimizer.Worker.Methods.Prune;

/// <summary>Parsed prune options: unstructured at <see cref="Sparsity"/>, or N:M (keep N non-zeros of every M).</summary>
public sealed record PruneSpec(double Sparsity, int N, int M)
{
    public bool IsNOfM => M > 0;

    /// <summary>The sparsity the mask produces: <see cref="Sparsity"/>, or 1 − N/M.</summary>
    public double Target => IsNOfM ? 1.0 - (double)N / M : Sparsity;

    public string Pattern => IsNOfM ? $"{N}:{M}" : PruneOptions.Unstructured;

    /// <summary>The output layout (<see cref="PruneOptions.Layout"/>); unstructured outputs are always dense.</summary>
    public string Layout { get; init; } = PruneOptions.DenseLayout;

    /// <summary>The dense weights (with zeros) are written.</summary>
    public bool WritesDense => !IsNOfM || Layout != PruneOptions.CompactLayout;

    /// <summary>The compact N:M layout is written.</summary>
    public bool WritesCompact => IsNOfM && Layout is PruneOptions.CompactLayout or PruneOptions.BothLayouts;

    public static PruneSpec From(PruneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return PruneOptions.TryParseNm(options.Pattern, out var n, out var m)
            ? new PruneSpec(1.0 - (double)n / m, n, m) { Layout = options.Layout }
            : new PruneSpec(options.Sparsity, 0, 0);
    }

    /// <summary>A linear with <paramref name="inFeatures"/> inputs can take this pattern.</summary>
    public bool Fits(long inFeatures) => !IsNOfM || inFeatures % M == 0;
}
