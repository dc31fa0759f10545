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

public sealed record LanguageModelComparisonRequest(string CandidateDir, string? BaselineDir, string Text, int? SeqLen, int? MaxTokens);

public sealed record LanguageModelEvaluation(
    double CandidatePerplexity,
    double? BaselinePerplexity,
    double? MeanKl,
    double? Top1Agreement,
    long Tokens);
