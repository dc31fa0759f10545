using System.Globalization;
using Optimizer.Worker.Evaluation;

namespace Optimizer.Worker.Evaluation.Encoders;

/// <summary>
/// The encoder questions of the standard bank (ALGORITHMS.md Part B, model kind = encoder): asked when the
/// candidate is a sentence encoder compared with a baseline, in place of the perplexity questions.
/// </summary>
public static class EncoderRubric
{
    /// <summary>Nearest-neighbour agreement required at every precision (retrieval must mostly return the same sentence).</summary>
    public const double MinNeighbourAgreement = 0.90;
    /// <summary>Spearman correlation of pair similarities required (the similarity ordering must be kept).</summary>
    public const double MinPairSpearman = 0.95;

    /// <summary>
    /// Minimum mean cosine to the baseline's embeddings: 0.99 at 8 bits and up (and unquantized outputs), 0.97 from 4 to
    /// 7 bits (the Part B defaults), 0.90 at 3 bits and below — where the item is not critical, as for perplexity.
    /// </summary>
    public static double MinCosine(RubricContext context) => context.Bits switch
    {
        null or >= 8 => 0.99,
        >= 4 => 0.97,
        _ => 0.90,
    };

    public static IReadOnlyList<RubricQuestion> Questions { get; } =
    [
        new()
        {
            Id = "quality.encoder_cosine",
            Category = "quality",
            Weight = 2.0,
            IsCritical = (c, _) => c.Bits is null or >= 4,
            IsRelevant = c => c.Metrics.Encoder is not null,
            Question = (c, _) => $"Is the mean cosine similarity of the model's sentence embeddings to the baseline's at least {Number(MinCosine(c))}?",
            Check = (c, _) => new RubricAnswer(c.Metrics.Encoder!.MeanCosine >= MinCosine(c),
                Evidence(("mean_cosine", c.Metrics.Encoder.MeanCosine), ("min_cosine", c.Metrics.Encoder.MinCosine),
                    ("sentences", c.Metrics.Encoder.Sentences), ("threshold", MinCosine(c)))),
        },
        new()
        {
            Id = "quality.encoder_neighbour_agreement",
            Category = "quality",
            IsRelevant = c => c.Metrics.Encoder is not null,
            Question = (_, _) => $"Is each sentence's nearest other sentence the same as with the baseline for at least {Percent(MinNeighbourAgreement)} of sentences?",
            Check = (c, _) => new RubricAnswer(c.Metrics.Encoder!.NeighbourAgreement >= MinNeighbourAgreement,
                Evidence(("neighbour_agreement", c.Metrics.Encoder.NeighbourAgreement), ("threshold", MinNeighbourAgreement))),
        },
        new()
        {
            Id = "quality.encoder_pair_spearman",
            Category = "quality",
            IsRelevant = c => c.Metrics.Encoder is not null,
            Question = (_, _) => $"Is the Spearman rank correlation between the model's and the baseline's sentence-pair similarities at least {Number(MinPairSpearman)}?",
            Check = (c, _) => new RubricAnswer(c.Metrics.Encoder!.PairSpearman >= MinPairSpearman,
                Evidence(("pair_spearman", c.Metrics.Encoder.PairSpearman), ("threshold", MinPairSpearman))),
        },
    ];

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (fraction * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %";

    private static IReadOnlyDictionary<string, object?> Evidence(params (string Key, object? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);
}
