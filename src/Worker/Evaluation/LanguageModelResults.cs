namespace Optimizer.Worker.Evaluation;

/// <summary>Perplexity of one model over non-overlapping windows (ALGORITHMS.md Part C 5.2).</summary>
/// <param name="Perplexity">exp(Σ nll_i / (windows × seqLen)) with nll_i = mean window loss × seqLen.</param>
/// <param name="MeanLoss">Mean of the per-window mean cross-entropies, in nats.</param>
/// <param name="Windows">Number of whole windows evaluated.</param>
/// <param name="SequenceLength">Tokens per window.</param>
/// <param name="TokensEvaluated">Windows × SequenceLength.</param>
public sealed record PerplexityResult(double Perplexity, double MeanLoss, int Windows, int SequenceLength, long TokensEvaluated);

/// <summary>A candidate model measured against a baseline over the same windows in one pass.</summary>
/// <param name="Baseline">The baseline's perplexity.</param>
/// <param name="Candidate">The candidate's perplexity.</param>
/// <param name="MeanKl">Mean over every position of every window of KL(baseline ‖ candidate) of the next-token distributions, in nats.</param>
/// <param name="Top1Agreement">Fraction of those positions where both models' most likely next token is the same.</param>
/// <param name="PositionsCompared">Number of positions the KL and agreement average over.</param>
public sealed record LanguageModelComparison(
    PerplexityResult Baseline,
    PerplexityResult Candidate,
    double MeanKl,
    double Top1Agreement,
    long PositionsCompared);
