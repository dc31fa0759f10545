using Microsoft.ML.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Evaluation.Tasks;

/// <summary>
/// An autorater (ALGORITHMS.md Part B, point 4): a causal LM reads the prompt, the response and a yes/no question,
/// and the answer is yes iff P("Yes") &gt; P("No") for its next token.
/// </summary>
/// <remarks>
/// Both spellings, with and without a leading space, are summed for each answer: byte-level BPE vocabularies give
/// " Yes" and "Yes" different ids, and which one follows "Answer:" depends on the model's training text.
/// </remarks>
public sealed class JudgeModel(nn.Module<Tensor, Tensor> model, Tokenizer tokenizer, int maxContext)
{
    /// <summary>The text the judge reads; its last token is where the next-token logits are read.</summary>
    public static string Template(string prompt, string response, string question) =>
        $"Prompt: {prompt}\nResponse: {response}\nQuestion: {question}\nAnswer (Yes or No):";

    public JudgeVerdict Ask(string prompt, string response, string question)
    {
        var ids = tokenizer.EncodeToIds(Template(prompt, response, question));
        var logProbs = NextTokenScorer.NextTokenLogProbs(model, ids, maxContext);
        var pYes = Probability(logProbs, "Yes");
        var pNo = Probability(logProbs, "No");
        return new JudgeVerdict(pYes > pNo, pYes, pNo);
    }

    private double Probability(float[] logProbs, string word)
    {
        var ids = new HashSet<int>();
        foreach (var spelling in new[] { word, " " + word })
        {
            var encoded = tokenizer.EncodeToIds(spelling);
            if (encoded.Count > 0 && encoded[0] < logProbs.Length)
            {
                ids.Add(encoded[0]);
            }
        }
        return ids.Sum(id => Math.Exp(logProbs[id]));
    }
}

/// <summary>The judge's answer with the two probabilities it compared.</summary>
public sealed record JudgeVerdict(bool Yes, double PYes, double PNo);
