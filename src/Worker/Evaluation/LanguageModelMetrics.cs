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
            var rows = CompareRows(baselineLogits, candidateLogits, targets);
            baselineLoss += rows.BaselineWindowLossSum;
            candidateLoss += rows.CandidateWindowLossSum;
            klSum += rows.KlSum;
            agreements += rows.Agreements;
            positions += rows.Positions;
        }
        return new LanguageModelComparison(
            Result(baselineLoss, windows.Count, seqLen),
            Result(candidateLoss, windows.Count, seqLen),
            klSum / positions,
            (double)agreements / positions,
            positions);
    }

    /// <summary>Rows of logits compared per chunk: small enough that a chunk's temporaries stay in cache.</summary>
    private const int CompareChunkRows = 32;

    /// <summary>
    /// Window losses of both models, summed KL(baseline ‖ candidate) and top-1 agreements over every position of
    /// <c>[batch, seq, vocab]</c> logits.
    /// </summary>
    /// <remarks>
    /// With a 50k vocabulary the element-wise work on the logits costs more than the forward passes, and on whole
    /// batches every pass streams hundreds of megabytes through memory; row chunks keep it in cache (about 2×
    /// faster on the fixture's held-out set). Every position counts for KL and agreement; the last position of a
    /// window has no next token, so it is left out of the loss as in <see cref="WindowLossSum"/>.
    /// </remarks>
    private static RowComparison CompareRows(Tensor baselineLogits, Tensor candidateLogits, Tensor targets)
    {
        var (batch, seqLen, vocab) = (baselineLogits.shape[0], baselineLogits.shape[1], baselineLogits.shape[2]);
        var baselineRows = baselineLogits.reshape(-1, vocab);
        var candidateRows = candidateLogits.reshape(-1, vocab);
        // Next-token targets for every row; a window's last row gets a dummy 0 and is masked out below.
        var nextTokens = torch.cat([targets, torch.zeros([batch, 1], ScalarType.Int64, targets.device)], 1).reshape(-1, 1);
        var baselineNll = new List<Tensor>();
        var candidateNll = new List<Tensor>();
        double klSum = 0;
        long agreements = 0;
        var total = baselineRows.shape[0];
        for (long start = 0; start < total; start += CompareChunkRows)
        {
            var length = Math.Min(CompareChunkRows, total - start);
            var baselineLog = baselineRows.narrow(0, start, length).log_softmax(-1);
            var candidateLog = candidateRows.narrow(0, start, length).log_softmax(-1);
            var next = nextTokens.narrow(0, start, length);
            baselineNll.Add(baselineLog.gather(1, next).neg());
            candidateNll.Add(candidateLog.gather(1, next).neg());
            klSum += (baselineLog.exp() * (baselineLog - candidateLog)).sum().to(ScalarType.Float64).item<double>();
            agreements += baselineLog.argmax(-1).eq(candidateLog.argmax(-1)).sum().item<long>();
        }
        return new RowComparison(
            WindowMeanSum(torch.cat(baselineNll, 0), batch, seqLen),
            WindowMeanSum(torch.cat(candidateNll, 0), batch, seqLen),
            klSum, agreements, total);
    }

    /// <summary>Σ over windows of the mean loss over each window's first <c>seqLen − 1</c> positions.</summary>
    private static double WindowMeanSum(Tensor rowNll, long batch, long seqLen) =>
        rowNll.view(batch, seqLen).narrow(1, 0, seqLen - 1).mean([1]).to(ScalarType.Float64).sum().item<double>();

    private readonly record struct RowComparison(
        double BaselineWindowLossSum, double CandidateWindowLossSum, double KlSum, long Agreements, long Positions);

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
