using Optimizer.Worker.Evaluation.Tasks;
using Optimizer.Worker.Modeling.Tokenization;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Evaluation.Tasks;

public sealed class JudgeModelTests
{
    private const int Vocab = 50257;

    /// <summary>Uniform next-token logits except <paramref name="favoured"/>, raised by <paramref name="boost"/>.</summary>
    private sealed class BiasedModel(int favoured, float boost) : nn.Module<Tensor, Tensor>("biased")
    {
        public override Tensor forward(Tensor input)
        {
            var logits = torch.zeros(input.shape[0], input.shape[1], Vocab);
            logits[TensorIndex.Ellipsis, favoured] = boost;
            return logits;
        }
    }

    private static Microsoft.ML.Tokenizers.Tokenizer Gpt2 => TokenizerLoader.Load(Path.Combine(TestEnvironment.FixtureDir, "model"));

    [Theory]
    [InlineData(" Yes", true)]
    [InlineData("Yes", true)]
    [InlineData(" No", false)]
    public void Ask_AnswersYesIffPYesExceedsPNo_FromNextTokenLogits(string favouredWord, bool expected)
    {
        var tokenizer = Gpt2;
        using var model = new BiasedModel(tokenizer.EncodeToIds(favouredWord)[0], 4f);
        var judge = new JudgeModel(model, tokenizer, maxContext: 256);

        var verdict = judge.Ask("Call me Ishmael.", "Some years ago", "Does the response continue the story?");

        Assert.Equal(expected, verdict.Yes);
        Assert.Equal(expected, verdict.PYes > verdict.PNo);
        // Two spellings per answer: the favoured one has e^4 / (V - 1 + e^4), the other spelling 1 / (V - 1 + e^4).
        var favoured = Math.Exp(4) / (Vocab - 1 + Math.Exp(4));
        Assert.Equal(favoured + 1 / (Vocab - 1 + Math.Exp(4)), Math.Max(verdict.PYes, verdict.PNo), 1e-6);
    }

    [Fact]
    public void ContinuationLogLikelihood_IsTokensTimesLogOneOverV_ForUniformModel()
    {
        using var model = new BiasedModel(0, 0f);

        var score = NextTokenScorer.ContinuationLogLikelihood(model, [10, 20, 30], [40, 50], maxContext: 8);

        Assert.Equal(-2 * Math.Log(Vocab), score, 1e-4);
    }

    [Fact]
    public void ContinuationLogLikelihood_PrefersTheFavouredToken()
    {
        using var model = new BiasedModel(7, 3f);

        var favoured = NextTokenScorer.ContinuationLogLikelihood(model, [1, 2], [7], maxContext: 8);
        var other = NextTokenScorer.ContinuationLogLikelihood(model, [1, 2], [8], maxContext: 8);

        Assert.Equal(3.0, favoured - other, 1e-4);
    }
}
