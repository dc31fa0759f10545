using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Evaluation.Encoders;

namespace Optimizer.Worker.Tests.Evaluation.Encoders;

public sealed class EncoderRubricTests
{
    private static EvaluationMetrics EncoderMetrics(double cosine) => new()
    {
        AllTensorsFinite = true,
        LoadsAndRuns = true,
        SizeBytes = 53_500_000,
        BaselineSizeBytes = 90_000_000,
        QuantizedParameters = 10_600_000,
        QuantizedBytes = 5_600_000,
        OtherParameters = 12_000_000,
        OtherBytes = 48_000_000,
        MinQuantizedInFeatures = 384,
        MinQuantizedOutFeatures = 384,
        Encoder = new EncoderSimilarity(128, cosine, cosine - 0.01, 0.95, 0.99),
    };

    private static RubricContext Encoder(int? bits, EvaluationMetrics metrics) =>
        new("quantize", "rtn", bits, 128, IsCausalLm: false, HasBaseline: true, metrics, null);

    [Fact]
    public void Answer_AsksEncoderItemsAndNoPerplexity_WhenModelIsEncoder()
    {
        var card = RubricEngine.Answer(Encoder(8, EncoderMetrics(0.999)), RubricBank.Standard);

        var ids = card.Items.Select(i => i.Id).ToList();
        Assert.Contains("quality.encoder_cosine", ids);
        Assert.Contains("quality.encoder_neighbour_agreement", ids);
        Assert.Contains("quality.encoder_pair_spearman", ids);
        Assert.Contains("integrity.output_loads_and_runs", ids);
        Assert.DoesNotContain(ids, id => id.Contains("perplexity", StringComparison.Ordinal) || id.Contains("top1", StringComparison.Ordinal));
        Assert.Equal(1.0, card.Score);
        Assert.Equal("pass", card.Verdict);
    }

    [Theory]
    [InlineData(8, 0.985, false)]
    [InlineData(8, 0.995, true)]
    [InlineData(4, 0.975, true)]
    [InlineData(4, 0.95, false)]
    public void Answer_ChecksCosineAgainstBitWidthThreshold_AndFailsVerdict(int bits, double cosine, bool expected)
    {
        var card = RubricEngine.Answer(Encoder(bits, EncoderMetrics(cosine)), RubricBank.Standard);

        var item = card.Items.Single(i => i.Id == "quality.encoder_cosine");
        Assert.Equal(expected, item.Answer);
        Assert.True(item.Critical);
        Assert.Equal(expected ? "pass" : "fail", card.Verdict);
    }

    [Fact]
    public void Answer_SkipsEncoderItems_WhenModelIsCausalLm()
    {
        var metrics = EncoderMetrics(0.999) with { Encoder = null, CandidatePerplexity = 10, BaselinePerplexity = 10, MeanKl = 0, Top1Agreement = 1 };

        var card = RubricEngine.Answer(new RubricContext("quantize", "rtn", 8, 128, true, true, metrics, null), RubricBank.Standard);

        Assert.DoesNotContain(card.Items, i => i.Id.StartsWith("quality.encoder_", StringComparison.Ordinal));
    }
}
