using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Evaluation;

/// <summary>Greedy (argmax) continuation of a prompt, re-running the full context each step (no KV cache).</summary>
public static class GreedyDecoder
{
    /// <summary>
    /// Appends up to <paramref name="maxNewTokens"/> argmax tokens to <paramref name="promptIds"/>, stopping after
    /// <paramref name="endOfSequenceId"/>; the context is cut to the last <paramref name="maxContext"/> tokens.
    /// </summary>
    /// <returns>The generated ids only (without the prompt).</returns>
    public static IReadOnlyList<int> Generate(nn.Module<Tensor, Tensor> model, IReadOnlyList<int> promptIds, int maxNewTokens,
        int? endOfSequenceId = null, int maxContext = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (promptIds.Count == 0)
        {
            throw new ArgumentException("the prompt must have at least one token", nameof(promptIds));
        }
        model.eval();
        using var noGrad = torch.no_grad();
        var context = promptIds.Select(i => (long)i).ToList();
        var generated = new List<int>();
        for (var step = 0; step < maxNewTokens; step++)
        {
            using var scope = torch.NewDisposeScope();
            var window = context.Skip(Math.Max(0, context.Count - maxContext)).ToArray();
            var input = torch.tensor(window, [1, window.Length], dtype: ScalarType.Int64);
            var logits = model.forward(input);
            var next = (int)logits[0, -1].argmax().item<long>();
            generated.Add(next);
            context.Add(next);
            if (next == endOfSequenceId)
            {
                break;
            }
        }
        return generated;
    }
}
