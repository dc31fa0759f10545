namespace Optimizer.Kernels.Codecs;

/// <summary>
/// PTQTP's alternating fit of one group <c>w ≈ a1·t1 + a2·t2</c> with trit vectors t1, t2 ∈ {-1, 0, 1}^G
/// (ALGORITHMS.md 1.7, algorithm details [interp]: reconstructed from the paper's summary, code unreleased).
/// </summary>
/// <remarks>
/// Progressive init: <c>t1 = tern(w)</c> (threshold 0.7·mean|w|) with its least-squares scale, then the same on the
/// residual for t2. Each iteration solves the 2×2 ridge system <c>(SᵀS + λI) a = Sᵀw</c> for the scales (a rank-deficient
/// system, t2 = ±t1 or an empty plane, falls back to the least-squares solution on the remaining plane) and then picks
/// each position's trit pair as the best of the 9 in {-1,0,1}². With λ = 0 both half-steps are exact minimisers, so the
/// error never increases; with λ &gt; 0 an iteration that would increase it is undone and the fit stops. The fit stops
/// when the relative decrease of the squared error is below the tolerance.
/// </remarks>
public static class TritPlaneFit
{
    /// <summary>Fits one group; returns the squared reconstruction error of the result.</summary>
    /// <param name="w">The group's weights.</param>
    /// <param name="t1">First plane (output).</param>
    /// <param name="t2">Second plane (output).</param>
    /// <param name="options">Iterations, tolerance and ridge λ.</param>
    /// <param name="trace">When not null, receives the squared error after init and after every iteration.</param>
    /// <exception cref="ArgumentException">The planes are not as long as <paramref name="w"/>.</exception>
    public static (float Alpha1, float Alpha2, double Error) Fit(ReadOnlySpan<float> w, Span<sbyte> t1, Span<sbyte> t2,
        TritPlaneFitOptions options, List<double>? trace = null)
    {
        if (t1.Length != w.Length || t2.Length != w.Length)
        {
            throw new ArgumentException("the trit planes must be as long as the group");
        }
        Ternarize(w, t1);
        var a1 = LeastSquaresScale(w, t1);
        Span<float> residual = w.Length <= 1024 ? stackalloc float[w.Length] : new float[w.Length];
        for (var j = 0; j < w.Length; j++)
        {
            residual[j] = w[j] - (float)(a1 * t1[j]);
        }
        Ternarize(residual, t2);
        var a2 = LeastSquaresScale(residual, t2);
        var error = Error(w, t1, t2, a1, a2);
        trace?.Add(error);
        Span<sbyte> saved1 = w.Length <= 1024 ? stackalloc sbyte[w.Length] : new sbyte[w.Length];
        Span<sbyte> saved2 = w.Length <= 1024 ? stackalloc sbyte[w.Length] : new sbyte[w.Length];
        for (var iteration = 0; iteration < options.MaxIterations; iteration++)
        {
            t1.CopyTo(saved1);
            t2.CopyTo(saved2);
            var (b1, b2) = SolveScales(w, t1, t2, options.Lambda);
            AssignTrits(w, t1, t2, b1, b2);
            var next = Error(w, t1, t2, b1, b2);
            if (next > error)
            {
                // Only possible with λ > 0: keep the better previous fit.
                saved1.CopyTo(t1);
                saved2.CopyTo(t2);
                break;
            }
            var decrease = error - next;
            (a1, a2, error) = (b1, b2, next);
            trace?.Add(error);
            if (decrease <= options.Tolerance * Math.Max(error + decrease, double.Epsilon))
            {
                break;
            }
        }
        return ((float)a1, (float)a2, error);
    }

    /// <summary>The ridge solution of the 2×2 system; the least-squares one on the non-empty plane when it is singular.</summary>
    public static (double A1, double A2) SolveScales(ReadOnlySpan<float> w, ReadOnlySpan<sbyte> t1, ReadOnlySpan<sbyte> t2, double lambda)
    {
        double n11 = 0, n12 = 0, n22 = 0, b1 = 0, b2 = 0;
        for (var j = 0; j < w.Length; j++)
        {
            n11 += t1[j] * t1[j];
            n12 += t1[j] * t2[j];
            n22 += t2[j] * t2[j];
            b1 += t1[j] * (double)w[j];
            b2 += t2[j] * (double)w[j];
        }
        var g11 = n11 + lambda;
        var g22 = n22 + lambda;
        var det = g11 * g22 - n12 * n12;
        if (det > 1e-9 * (g11 + g22) * (g11 + g22))
        {
            return ((g22 * b1 - n12 * b2) / det, (g11 * b2 - n12 * b1) / det);
        }
        if (n11 > 0)
        {
            return (b1 / g11, 0);
        }
        return n22 > 0 ? (0, b2 / g22) : (0, 0);
    }

    /// <summary>Each position's trit pair, the best of the 9 for the given scales (first best in (-1,0,1) order on ties).</summary>
    public static void AssignTrits(ReadOnlySpan<float> w, Span<sbyte> t1, Span<sbyte> t2, double a1, double a2)
    {
        for (var j = 0; j < w.Length; j++)
        {
            var best = double.MaxValue;
            for (sbyte p = -1; p <= 1; p++)
            {
                for (sbyte q = -1; q <= 1; q++)
                {
                    var d = w[j] - a1 * p - a2 * q;
                    if (d * d < best)
                    {
                        best = d * d;
                        t1[j] = p;
                        t2[j] = q;
                    }
                }
            }
        }
    }

    /// <summary><c>‖w − a1·t1 − a2·t2‖²</c>.</summary>
    public static double Error(ReadOnlySpan<float> w, ReadOnlySpan<sbyte> t1, ReadOnlySpan<sbyte> t2, double a1, double a2)
    {
        var sum = 0.0;
        for (var j = 0; j < w.Length; j++)
        {
            var d = w[j] - a1 * t1[j] - a2 * t2[j];
            sum += d * d;
        }
        return sum;
    }

    private static void Ternarize(ReadOnlySpan<float> values, Span<sbyte> trits)
    {
        var mean = 0.0;
        foreach (var v in values)
        {
            mean += Math.Abs(v);
        }
        var threshold = 0.7 * mean / Math.Max(values.Length, 1);
        for (var j = 0; j < values.Length; j++)
        {
            trits[j] = Math.Abs(values[j]) > threshold ? (sbyte)Math.Sign(values[j]) : (sbyte)0;
        }
    }

    private static double LeastSquaresScale(ReadOnlySpan<float> values, ReadOnlySpan<sbyte> trits)
    {
        double dot = 0, count = 0;
        for (var j = 0; j < values.Length; j++)
        {
            dot += trits[j] * (double)values[j];
            count += trits[j] * trits[j];
        }
        return count > 0 ? dot / count : 0;
    }
}

/// <summary>Stopping rule and regularisation of <see cref="TritPlaneFit"/>.</summary>
/// <param name="MaxIterations">Alternating iterations after the progressive init (PTQTP suggests 50).</param>
/// <param name="Tolerance">Stop when the squared error falls by less than this fraction in one iteration.</param>
/// <param name="Lambda">Ridge λ added to the diagonal of <c>SᵀS</c> (0: plain least squares).</param>
public readonly record struct TritPlaneFitOptions(int MaxIterations = 50, double Tolerance = 1e-6, double Lambda = 0);
