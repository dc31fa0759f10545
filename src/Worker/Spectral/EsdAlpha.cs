using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Spectral;

/// <summary>
/// Heavy-tail self-regularisation (HT-SR) metric of a weight matrix (ALGORITHMS.md Part C 2.5): the power-law exponent
/// alpha of the tail of its empirical spectral density (ESD), the eigenvalues λ = σ(W)² of WᵀW.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Farms"/> estimates alpha as FARMS does: on the pooled ESD of equal-shape submatrices (fixed aspect ratio),
/// so that layers of different shapes (q_proj 4096×4096, down_proj 4096×11008) get comparable alphas;
/// <see cref="FullMatrix"/> is the classic (AlphaPruning / WeightWatcher) estimate on the whole matrix. Both fit the
/// tail with the Hill (MLE) estimator at <c>xmin_mid</c> (the median eigenvalue), FARMS's default.
/// </para>
/// <para>
/// A larger alpha means a less heavy-tailed ESD, read as a less well-trained layer. Pruning allocation uses it
/// (<c>Methods/Prune/Farms</c>); evaluation can report it per layer as a diagnostic.
/// </para>
/// </remarks>
public static class EsdAlpha
{
    /// <summary>
    /// Hill (maximum-likelihood) power-law exponent of the tail that starts at index <paramref name="iMin"/> of the
    /// ascending eigenvalues: <c>alpha = 1 + n / (Σ_{i≥iMin} ln λ_i − n·ln λ_iMin)</c>, <c>n = N − iMin</c>.
    /// </summary>
    /// <returns>The exponent; <see cref="double.NaN"/> when the tail is empty, non-positive at xmin, or flat (all equal).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="iMin"/> is outside the span.</exception>
    public static double Hill(ReadOnlySpan<double> ascending, int iMin)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iMin);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(iMin, Math.Max(ascending.Length, 1));
        var xmin = ascending[iMin];
        if (!(xmin > 0))
        {
            return double.NaN;
        }
        var n = ascending.Length - iMin;
        var logXmin = Math.Log(xmin);
        var excess = 0.0;
        for (var i = iMin; i < ascending.Length; i++)
        {
            excess += Math.Log(ascending[i]) - logXmin;
        }
        return excess > 0 ? 1 + n / excess : double.NaN;
    }

    /// <summary><see cref="Hill"/> with FARMS's <c>xmin_mid</c>: the tail starts at the median eigenvalue (index N/2).</summary>
    public static double HillXminMid(ReadOnlySpan<double> ascending) => Hill(ascending, ascending.Length / 2);

    /// <summary>FARMS alpha of one weight <c>[out, in]</c> (any float dtype; computed in float64).</summary>
    public static EsdFit Farms(Tensor weight, FarmsSampling? sampling = null)
    {
        var windows = SubmatrixWindows.For(weight.shape[0], weight.shape[1], sampling ?? FarmsSampling.Default);
        var eigenvalues = SampledEigenvalues(weight, windows);
        return Fit(eigenvalues, windows.Count, windows.Rows, windows.Columns);
    }

    /// <summary>Alpha of the whole matrix's ESD (no subsampling): the estimate FARMS corrects for aspect ratio.</summary>
    public static EsdFit FullMatrix(Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        var singular = torch.linalg.svdvals(weight.to(ScalarType.Float64));
        var eigenvalues = singular.square().sort().Values.data<double>().ToArray();
        return Fit(eigenvalues, 1, weight.shape[0], weight.shape[1]);
    }

    /// <summary>FARMS alpha of each named weight of a model folder, read one at a time (dense or through its packed readers).</summary>
    public static IReadOnlyDictionary<string, EsdFit> ForWeights(ModelFolder folder, IEnumerable<string> weightNames,
        FarmsSampling? sampling = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var fits = new Dictionary<string, EsdFit>(StringComparer.Ordinal);
        foreach (var name in weightNames)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var weight = folder.ReadWeight(name);
            fits[name] = Farms(weight, sampling);
        }
        return fits;
    }

    /// <summary>The pooled squared singular values of every window, ascending.</summary>
    public static double[] SampledEigenvalues(Tensor weight, SubmatrixWindows windows)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(windows);
        using var scope = torch.NewDisposeScope();
        var matrix = weight.to(ScalarType.Float64);
        // One batched SVD over every window instead of one call per window.
        var stacked = torch.stack(windows.Starts
            .Select(s => matrix.narrow(0, s.Row, windows.Rows).narrow(1, s.Column, windows.Columns))
            .ToArray());
        var eigenvalues = torch.linalg.svdvals(stacked).square().flatten().sort().Values;
        return eigenvalues.data<double>().ToArray();
    }

    private static EsdFit Fit(double[] ascending, int windows, long rows, long columns)
    {
        // Exact zeros (rank deficiency, e.g. a pruned or padded matrix) carry no tail information and would put
        // ln 0 in the estimator.
        var positive = ascending.Where(v => v > 0).ToArray();
        var alpha = positive.Length < 2 ? double.NaN : HillXminMid(positive);
        var spectralNorm = ascending.Length == 0 ? 0 : ascending[^1];
        return new EsdFit(alpha, spectralNorm, positive.Length, windows, rows, columns);
    }
}

/// <summary>One alpha estimate.</summary>
/// <param name="Alpha">Hill exponent at xmin_mid; NaN when the spectrum has no usable tail.</param>
/// <param name="SpectralNorm">Largest eigenvalue λ_max = σ_max² seen (of the pooled windows for FARMS).</param>
/// <param name="Eigenvalues">Positive eigenvalues the fit used.</param>
/// <param name="Windows">Submatrices pooled (1 for the full matrix).</param>
/// <param name="WindowRows">Rows of each submatrix.</param>
/// <param name="WindowColumns">Columns of each submatrix.</param>
public sealed record EsdFit(double Alpha, double SpectralNorm, int Eigenvalues, int Windows, long WindowRows, long WindowColumns);
