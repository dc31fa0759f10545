namespace Optimizer.Worker.Evaluation.Encoders;

/// <summary>Embeds the same sentences with a candidate encoder and its baseline and compares the embeddings.</summary>
public interface IEncoderComparer
{
    /// <summary>
    /// Null similarity when there is no baseline (the candidate is still loaded and run). Throws when the candidate
    /// cannot be loaded or run (reported as <c>integrity.output_loads_and_runs</c> = no).
    /// </summary>
    Task<EncoderEvaluation> CompareAsync(EncoderComparisonRequest request, CancellationToken cancellationToken);
}

/// <param name="CandidateDir">The candidate model folder.</param>
/// <param name="BaselineDir">The baseline model folder, or null to only load and run the candidate.</param>
/// <param name="Sentences">The evaluation sentences (see <see cref="SentenceSplitter"/>).</param>
public sealed record EncoderComparisonRequest(string CandidateDir, string? BaselineDir, IReadOnlyList<string> Sentences);

public sealed record EncoderEvaluation(int Sentences, EncoderSimilarity? Similarity);
