using Optimizer.Domain.Methods.Prune;

namespace Optimizer.Worker.Methods.Prune;

/// <summary>Parsed prune options: unstructured at <see cref="Sparsity"/>, or N:M (keep N non-zeros of every M).</summary>
public sealed record PruneSpec(double Sparsity, int N, int M)
{
    public bool IsNOfM => M > 0;

    /// <summary>The sparsity the mask produces: <see cref="Sparsity"/>, or 1 − N/M.</summary>
    public double Target => IsNOfM ? 1.0 - (double)N / M : Sparsity;

    public string Pattern => IsNOfM ? $"{N}:{M}" : PruneOptions.Unstructured;

    public static PruneSpec From(PruneOptions options) =>
        PruneOptions.TryParseNm(options.Pattern, out var n, out var m)
            ? new PruneSpec(1.0 - (double)n / m, n, m)
            : new PruneSpec(options.Sparsity, 0, 0);

    /// <summary>A linear with <paramref name="inFeatures"/> inputs can take this pattern.</summary>
    public bool Fits(long inFeatures) => !IsNOfM || inFeatures % M == 0;
}
