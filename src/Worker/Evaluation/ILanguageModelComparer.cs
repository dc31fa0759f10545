namespace Optimizer.Worker.Evaluation;

/// <summary>Runs a candidate and a baseline causal LM over the same text and compares their predictions.</summary>
public interface ILanguageModelComparer
{
    /// <summary>
    /// Perplexity of both (ALGORITHMS.md 5.2 protocol), mean KL(baseline ‖ candidate) and top-1 agreement.
    /// Throws when the candidate cannot be loaded or run (reported as <c>integrity.output_loads_and_runs</c> = no).
    /// </summary>
    Task<LanguageModelEvaluation> CompareAsync(LanguageModelComparisonRequest request, CancellationToken cancellationToken);
}

/// <summary>What to compare: the candidate (and baseline) folders, the text, the window and token cap.</summary>
/// <param name="CandidateDir">The evaluated model's folder.</param>
/// <param name="BaselineDir">The baseline's folder, or null for the candidate's perplexity alone.</param>
/// <param name="Text">Evaluation text, tokenized as one stream.</param>
/// <param name="SeqLen">Perplexity window; default min(2048, max positions).</param>
/// <param name="MaxTokens">Cap on evaluated tokens.</param>
/// <param name="BudgetMb">BitStack candidates only: load the blocks a budget of this many MB selects (all when null).</param>
public sealed record LanguageModelComparisonRequest(string CandidateDir, string? BaselineDir, string Text, int? SeqLen, int? MaxTokens,
    double? BudgetMb = null);

/// <summary>
/// The comparison's results; <paramref name="Diagnostics"/> holds the per-layer diagnostics when a baseline was given, and
/// <paramref name="Latency"/> the decode latency through the low-bit kernels when a kernel runs the candidate's format.
/// </summary>
public sealed record LanguageModelEvaluation(
    double CandidatePerplexity,
    double? BaselinePerplexity,
    double? MeanKl,
    double? Top1Agreement,
    long Tokens,
    Diagnostics.LayerDiagnostics? Diagnostics = null,
    Latency.LatencyMeasurement? Latency = null);
