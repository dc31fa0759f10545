namespace Optimizer.Worker.Evaluation.Encoders;

/// <summary>What the encoder metrics say about a candidate's sentence embeddings against the baseline's.</summary>
/// <param name="Sentences">Sentences embedded by both.</param>
/// <param name="MeanCosine">Mean over sentences of cosine(candidate embedding, baseline embedding).</param>
/// <param name="MinCosine">The worst sentence's cosine.</param>
/// <param name="NeighbourAgreement">
/// Fraction of sentences whose nearest other sentence (by cosine) is the same for both models: retrieval agreement.
/// </param>
/// <param name="PairSpearman">Spearman rank correlation of the two models' similarities over all sentence pairs.</param>
public sealed record EncoderSimilarity(int Sentences, double MeanCosine, double MinCosine, double NeighbourAgreement, double PairSpearman)
{
    /// <summary>
    /// Compares two sets of unit-length embeddings, row i of each for sentence i (<c>[n, d]</c> row-major).
    /// </summary>
    public static EncoderSimilarity Compare(float[] baseline, float[] candidate, int n, int d)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        if (n < 3 || baseline.Length != n * d || candidate.Length != n * d)
        {
            throw new ArgumentException($"need at least 3 sentences with {d}-wide embeddings from both models");
        }
        double Dot(float[] a, int i, float[] b, int j)
        {
            var sum = 0.0;
            for (var k = 0; k < d; k++)
            {
                sum += (double)a[i * d + k] * b[j * d + k];
            }
            return sum;
        }
        var cosines = Enumerable.Range(0, n).Select(i => Dot(candidate, i, baseline, i)).ToArray();
        var baselinePairs = new List<double>(n * (n - 1) / 2);
        var candidatePairs = new List<double>(n * (n - 1) / 2);
        var baselineSim = new double[n, n];
        var candidateSim = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                baselineSim[i, j] = baselineSim[j, i] = Dot(baseline, i, baseline, j);
                candidateSim[i, j] = candidateSim[j, i] = Dot(candidate, i, candidate, j);
                baselinePairs.Add(baselineSim[i, j]);
                candidatePairs.Add(candidateSim[i, j]);
            }
        }
        var agree = Enumerable.Range(0, n).Count(i => Nearest(baselineSim, i, n) == Nearest(candidateSim, i, n));
        return new EncoderSimilarity(n, cosines.Average(), cosines.Min(), (double)agree / n,
            Spearman(baselinePairs, candidatePairs));
    }

    private static int Nearest(double[,] similarity, int i, int n)
    {
        var best = -1;
        for (var j = 0; j < n; j++)
        {
            if (j != i && (best < 0 || similarity[i, j] > similarity[i, best]))
            {
                best = j;
            }
        }
        return best;
    }

    /// <summary>Spearman's rho: Pearson correlation of the ranks, ties given their average rank.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var rx = Ranks(x);
        var ry = Ranks(y);
        var mx = rx.Average();
        var my = ry.Average();
        double cov = 0, vx = 0, vy = 0;
        for (var k = 0; k < rx.Length; k++)
        {
            cov += (rx[k] - mx) * (ry[k] - my);
            vx += (rx[k] - mx) * (rx[k] - mx);
            vy += (ry[k] - my) * (ry[k] - my);
        }
        return vx == 0 || vy == 0 ? 0 : cov / Math.Sqrt(vx * vy);
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(k => values[k]).ToArray();
        var ranks = new double[values.Count];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }
            var rank = (start + end) / 2.0 + 1;
            for (var k = start; k <= end; k++)
            {
                ranks[order[k]] = rank;
            }
            start = end + 1;
        }
        return ranks;
    }
}
