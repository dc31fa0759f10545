using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Evaluation;

/// <summary>
/// Causal-LM quality metrics with the GPTQ/AWQ perplexity protocol (ALGORITHMS.md Part C 5.2): the token
/// stream is cut into non-overlapping windows of <c>seqLen</c>, the remainder dropped, no context carried
/// between windows; each window's loss is the mean cross-entropy of its <c>seqLen - 1</c> predictions,
/// computed in float32, weighted ×seqLen as the reference code does.
/// </summary>
/// <remarks>
/// Models are any module mapping input ids [B, T] int64 to logits [B, T, V]; they are put in eval mode and
/// run under <c>no_grad</c>, one dispose scope per batch of windows.
/// </remarks>
public static class LanguageModelMetrics
{
    /// <summary>The windows the protocol evaluates: at most <paramref name="maxTokens"/> tokens, whole windows only.</summary>
    public static IReadOnlyList<long[]> Windows(IReadOnlyList<int> tokens, int seqLen, long? maxTokens = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 2);
        var usable = (int)Math.Min(tokens.Count, maxTokens ?? long.MaxValue);
        var count = usable / seqLen;
        var windows = new long[count][];
        for (var w = 0; w < count; w++)
        {
            windows[w] = new long[seqLen];
            for (var i = 0; i < seqLen; i++)
            {
                windows[w][i] = tokens[w * seqLen + i];
            }
        }
        return windows;
    }

    public static PerplexityResult Perplexity(nn.Module<Tensor, Tensor> model, IReadOnlyList<int> tokens, int seqLen,
        long? maxTokens = null, int batchSize = 4, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var windows = RequireWindows(tokens, seqLen, maxTokens);
        model.eval();
        using var noGrad = torch.no_grad();
        double lossSum = 0;
        foreach (var batch in windows.Chunk(batchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var (input, targets) = Batch(batch, model);
            var logits = model.forward(input).to(ScalarType.Float32);
            lossSum += WindowLossSum(logits, targets);
        }
        return Result(lossSum, windows.Count, seqLen);
    }

    /// <summary>Perplexity of both models plus mean KL(baseline ‖ candidate) and top-1 agreement, over the same windows.</summary>
    public static LanguageModelComparison Compare(nn.Module<Tensor, Tensor> baseline, nn.Module<Tensor, Tensor> candidate,
        IReadOnlyList<int> tokens, int seqLen, long? maxTokens = null, int batchSize = 4, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        var windows = RequireWindows(tokens, seqLen, maxTokens);
        baseline.eval();
        candidate.eval();
        using var noGrad = torch.no_grad();
        double baselineLoss = 0, candidateLoss = 0, klSum = 0;
        long agreements = 0, positions = 0;
        foreach (var batch in windows.Chunk(batchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var (input, targets) = Batch(batch, baseline);
            var baselineLogits = baseline.forward(input).to(ScalarType.Float32);
            var candidateLogits = candidate.forward(input.to(DeviceOf(candidate))).to(ScalarType.Float32).to(baselineLogits.device);
            baselineLoss += WindowLossSum(baselineLogits, targets);
            candidateLoss += WindowLossSum(candidateLogits, targets);
            var baselineLog = baselineLogits.log_softmax(-1);
            var candidateLog = candidateLogits.log_softmax(-1);
            var kl = (baselineLog.exp() * (baselineLog - candidateLog)).sum(-1);
            klSum += kl.to(ScalarType.Float64).sum().item<double>();
            agreements += baselineLogits.argmax(-1).eq(candidateLogits.argmax(-1)).sum().item<long>();
            positions += kl.numel();
        }
        return new LanguageModelComparison(
            Result(baselineLoss, windows.Count, seqLen),
            Result(candidateLoss, windows.Count, seqLen),
            klSum / positions,
            (double)agreements / positions,
            positions);
    }

    private static IReadOnlyList<long[]> RequireWindows(IReadOnlyList<int> tokens, int seqLen, long? maxTokens)
    {
        var windows = Windows(tokens, seqLen, maxTokens);
        if (windows.Count == 0)
        {
            throw new ArgumentException(
                $"need at least one window of {seqLen} tokens; got {Math.Min(tokens.Count, maxTokens ?? long.MaxValue)}", nameof(tokens));
        }
        return windows;
    }

    private static (Tensor Input, Tensor Targets) Batch(long[][] windows, nn.Module<Tensor, Tensor> model)
    {
        var seqLen = windows[0].Length;
        var input = torch.tensor(windows.SelectMany(w => w).ToArray(), [windows.Length, seqLen], dtype: ScalarType.Int64)
            .to(DeviceOf(model));
        return (input, input.narrow(1, 1, seqLen - 1));
    }

    /// <summary>Σ over windows of (mean CE of the window's seqLen-1 predictions).</summary>
    private static double WindowLossSum(Tensor logits, Tensor targets)
    {
        var (batch, seqLen, vocab) = (logits.shape[0], logits.shape[1], logits.shape[2]);
        var predicted = logits.narrow(1, 0, seqLen - 1).reshape(-1, vocab);
        var perToken = nn.functional.cross_entropy(predicted, targets.reshape(-1), reduction: nn.Reduction.None);
        return perToken.view(batch, seqLen - 1).mean([1]).to(ScalarType.Float64).sum().item<double>();
    }

    private static PerplexityResult Result(double windowLossSum, int windows, int seqLen)
    {
        // Σ nll_i / (n × seqLen) with nll_i = loss_i × seqLen is the mean window loss (the ×seqLen cancels).
        var meanLoss = windowLossSum * seqLen / ((double)windows * seqLen);
        return new PerplexityResult(Math.Exp(meanLoss), meanLoss, windows, seqLen, (long)windows * seqLen);
    }

    private static Device DeviceOf(nn.Module<Tensor, Tensor> model) =>
        model.parameters().FirstOrDefault()?.device ?? torch.CPU;
}
