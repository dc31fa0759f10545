using Optimizer.Worker.Evaluation.Encoders;

namespace Optimizer.Worker.Tests.Evaluation.Encoders;

public sealed class EncoderSimilarityTests
{
    private static float[] UnitRows(int n, int d, int seed)
    {
        var random = new Random(seed);
        var values = new float[n * d];
        for (var i = 0; i < n; i++)
        {
            var norm = 0.0;
            for (var k = 0; k < d; k++)
            {
                values[i * d + k] = (float)(random.NextDouble() * 2 - 1);
                norm += values[i * d + k] * values[i * d + k];
            }
            for (var k = 0; k < d; k++)
            {
                values[i * d + k] /= (float)Math.Sqrt(norm);
            }
        }
        return values;
    }

    [Fact]
    public void Compare_ScoresOne_WhenEmbeddingsAreIdentical()
    {
        var embeddings = UnitRows(20, 8, 1);

        var similarity = EncoderSimilarity.Compare(embeddings, embeddings, 20, 8);

        Assert.Equal(1.0, similarity.MeanCosine, 5);
        Assert.Equal(1.0, similarity.NeighbourAgreement);
        Assert.Equal(1.0, similarity.PairSpearman, 9);
    }

    [Fact]
    public void Compare_ScoresLow_WhenEmbeddingsAreUnrelated()
    {
        var similarity = EncoderSimilarity.Compare(UnitRows(40, 16, 1), UnitRows(40, 16, 2), 40, 16);

        Assert.InRange(similarity.MeanCosine, -0.3, 0.3);
        Assert.InRange(similarity.PairSpearman, -0.3, 0.3);
        Assert.True(similarity.NeighbourAgreement < 0.5);
    }

    [Fact]
    public void Spearman_IsMinusOne_WhenOrderIsReversed_AndAveragesTies()
    {
        Assert.Equal(-1.0, EncoderSimilarity.Spearman([1, 2, 3, 4], [8, 6, 4, 2]), 12);
        // Ranks with ties: [1, 2.5, 2.5, 4] against [1, 2, 3, 4].
        Assert.Equal(0.9486832980505138, EncoderSimilarity.Spearman([1, 2, 2, 3], [1, 2, 3, 4]), 12);
    }

    [Fact]
    public void Split_KeepsSentencesOfFourWordsOrMore()
    {
        var sentences = SentenceSplitter.Split("CHAPTER 10. A Bosom Friend.\n\nIt was   quite late. Queequeg smoked his pipe in peace! \"Who is there?\" said I.", 10);

        // "CHAPTER 10." and "A Bosom Friend." are too short; no cut inside the quotation (lower-case "said" follows).
        Assert.Equal(["It was quite late.", "Queequeg smoked his pipe in peace!", "\"Who is there?\" said I."], sentences);
    }
}
