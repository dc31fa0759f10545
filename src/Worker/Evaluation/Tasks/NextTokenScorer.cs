using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Evaluation.Tasks;

/// <summary>Log-probabilities a causal LM gives to next tokens and to continuations of a context.</summary>
public static class NextTokenScorer
{
    /// <summary>Log-softmax of the next-token logits after <paramref name="context"/> (cut to its last <paramref name="maxContext"/> tokens).</summary>
    public static float[] NextTokenLogProbs(nn.Module<Tensor, Tensor> model, IReadOnlyList<int> context, int maxContext)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (context.Count == 0)
        {
            throw new ArgumentException("the context must have at least one token", nameof(context));
        }
        model.eval();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var window = context.Skip(Math.Max(0, context.Count - maxContext)).Select(i => (long)i).ToArray();
        var logits = model.forward(torch.tensor(window, [1, window.Length], dtype: ScalarType.Int64).to(DeviceOf(model)));
        return logits[0, -1].to(ScalarType.Float32).log_softmax(-1).cpu().data<float>().ToArray();
    }

    /// <summary>
    /// Σ log P(continuation token | everything before it) — the lm-evaluation-harness <c>acc</c> score of a choice.
    /// The context is cut from the left so that context and continuation fit in <paramref name="maxContext"/> tokens.
    /// </summary>
    public static double ContinuationLogLikelihood(nn.Module<Tensor, Tensor> model, IReadOnlyList<int> context,
        IReadOnlyList<int> continuation, int maxContext)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (continuation.Count == 0 || context.Count == 0)
        {
            throw new ArgumentException("context and continuation must each have at least one token");
        }
        var keep = Math.Max(1, Math.Min(context.Count, maxContext - continuation.Count));
        var ids = context.Skip(context.Count - keep).Concat(continuation).Take(maxContext).Select(i => (long)i).ToArray();
        var scored = ids.Length - keep;
        model.eval();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var input = torch.tensor(ids, [1, ids.Length], dtype: ScalarType.Int64).to(DeviceOf(model));
        var logProbs = model.forward(input)[0].to(ScalarType.Float32).log_softmax(-1);
        // Position t predicts token t + 1: the continuation's tokens are predicted from positions keep-1 .. end-1.
        var predicted = logProbs.narrow(0, keep - 1, scored);
        var targets = input[0].narrow(0, keep, scored).unsqueeze(1);
        return predicted.gather(1, targets).to(ScalarType.Float64).sum().item<double>();
    }

    private static Device DeviceOf(nn.Module<Tensor, Tensor> model) =>
        model.parameters().FirstOrDefault()?.device ?? torch.CPU;
}
