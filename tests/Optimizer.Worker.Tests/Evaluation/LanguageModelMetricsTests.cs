using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Evaluation;

public sealed class LanguageModelMetricsTests
{
    /// <summary>Predicts every token with equal probability.</summary>
    private sealed class UniformModel(int vocab) : nn.Module<Tensor, Tensor>("uniform")
    {
        public override Tensor forward(Tensor input) => torch.zeros(input.shape[0], input.shape[1], vocab);
    }

    /// <summary>Always predicts token 0 with logit <paramref name="confidence"/>.</summary>
    private sealed class ConstantModel(int vocab, float confidence) : nn.Module<Tensor, Tensor>("constant")
    {
        public override Tensor forward(Tensor input)
        {
            var logits = torch.zeros(input.shape[0], input.shape[1], vocab);
            logits[TensorIndex.Ellipsis, 0] = confidence;
            return logits;
        }
    }

    private static int[] Tokens(int count, int vocab) => Enumerable.Range(0, count).Select(i => i * 7919 % vocab).ToArray();

    [Fact]
    public void Perplexity_EqualsVocabularySize_WhenLogitsAreUniform()
    {
        using var model = new UniformModel(50257);

        var result = LanguageModelMetrics.Perplexity(model, Tokens(1000, 50257), seqLen: 64, cancellationToken: TestContext.Current.CancellationToken);

        // Exact up to the float32 rounding of ln(50257) in the cross-entropy (a few ulps, ~1e-6 relative).
        Assert.Equal(50257, result.Perplexity, 1e-5 * 50257);
        Assert.Equal(Math.Log(50257), result.MeanLoss, 1e-5);
        Assert.Equal(15, result.Windows);
        Assert.Equal(15 * 64, result.TokensEvaluated);
    }

    [Fact]
    public void Windows_DropsRemainder_AndHonoursMaxTokens()
    {
        var tokens = Tokens(1000, 100);

        var all = LanguageModelMetrics.Windows(tokens, 256);
        var capped = LanguageModelMetrics.Windows(tokens, 256, maxTokens: 600);

        Assert.Equal(3, all.Count);
        Assert.Equal(2, capped.Count);
        Assert.Equal(tokens[256], all[1][0]);
    }

    [Fact]
    public void Perplexity_MatchesHandComputedCrossEntropy_ForConstantModel()
    {
        const int vocab = 10;
        using var model = new ConstantModel(vocab, 2f);
        var tokens = new[] { 0, 0, 3, 0, 5, 0, 0, 0 };
        // Log-probability of token 0 and of any other token under softmax([2, 0, ..., 0]).
        var logZ = Math.Log(Math.Exp(2) + vocab - 1);
        var (hit, miss) = (2 - logZ, -logZ);
        // Windows [0,0,3,0] and [5,0,0,0]: targets (0,3,0) and (0,0,0).
        var expected = Math.Exp(-((2 * hit + miss) / 3 + 3 * hit / 3) / 2);

        var result = LanguageModelMetrics.Perplexity(model, tokens, seqLen: 4, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(expected, result.Perplexity, 1e-5);
    }

    [Fact]
    public void Compare_GivesZeroKlAndFullAgreement_WhenModelsAreIdentical()
    {
        torch.manual_seed(3);
        var config = new LlamaConfig
        {
            VocabSize = 40, HiddenSize = 16, IntermediateSize = 32, NumHiddenLayers = 1,
            NumAttentionHeads = 2, NumKeyValueHeads = 1, HeadDim = 8, TieWordEmbeddings = true,
        };
        using var model = new LlamaForCausalLM(config);

        var comparison = LanguageModelMetrics.Compare(model, model, Tokens(300, 40), seqLen: 32, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(0, comparison.MeanKl, 1e-6);
        Assert.Equal(1.0, comparison.Top1Agreement);
        Assert.Equal(comparison.Baseline.Perplexity, comparison.Candidate.Perplexity);
        Assert.Equal(9 * 32, comparison.PositionsCompared);
    }

    [Fact]
    public void Compare_GivesPositiveKlAndPartialAgreement_WhenModelsDiffer()
    {
        using var uniform = new UniformModel(10);
        using var constant = new ConstantModel(10, 3f);

        var comparison = LanguageModelMetrics.Compare(uniform, constant, Tokens(64, 10), seqLen: 16, cancellationToken: TestContext.Current.CancellationToken);

        // KL(uniform ‖ softmax([3,0..0])) = Σ 0.1·(log 0.1 − log q_i), computed by hand.
        var logZ = Math.Log(Math.Exp(3) + 9);
        var expectedKl = 0.1 * (Math.Log(0.1) - (3 - logZ)) + 0.9 * (Math.Log(0.1) + logZ);
        Assert.Equal(expectedKl, comparison.MeanKl, 1e-5);
        // Uniform logits tie everywhere; argmax picks index 0, which the constant model also picks.
        Assert.Equal(1.0, comparison.Top1Agreement);
        Assert.Equal(10, comparison.Baseline.Perplexity, 1e-4);
    }
}
