using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Bert;
using TorchSharp;

namespace Optimizer.Worker.Evaluation.Encoders;

/// <summary>
/// Loads <c>BertModel</c> checkpoints (dense, GPTQ-packed or FP8, dequantized on load) as sentence encoders
/// (mean pooling, L2 normalisation) and compares their embeddings with <see cref="EncoderSimilarity"/>.
/// </summary>
public sealed class BertEncoderComparer : IEncoderComparer
{
    /// <summary>Sentences the evaluator takes from the evaluation text.</summary>
    public const int DefaultSentences = 128;

    public Task<EncoderEvaluation> CompareAsync(EncoderComparisonRequest request, CancellationToken cancellationToken) =>
        Task.Run(() => Compare(request, cancellationToken), cancellationToken);

    private static EncoderEvaluation Compare(EncoderComparisonRequest request, CancellationToken cancellationToken)
    {
        if (request.Sentences.Count < 3)
        {
            throw new JobFailedException(JobErrorCodes.InvalidDataset,
                $"The evaluation text has {request.Sentences.Count} usable sentences; the encoder metrics need at least 3.");
        }
        var candidate = Embed(request.CandidateDir, request.Sentences, cancellationToken);
        if (request.BaselineDir is null)
        {
            return new EncoderEvaluation(request.Sentences.Count, null);
        }
        var baseline = Embed(request.BaselineDir, request.Sentences, cancellationToken);
        var width = candidate.Length / request.Sentences.Count;
        return new EncoderEvaluation(request.Sentences.Count,
            EncoderSimilarity.Compare(baseline, candidate, request.Sentences.Count, width));
    }

    /// <summary>Unit-length embeddings of <paramref name="sentences"/>, row-major <c>[n, hidden]</c>.</summary>
    public static float[] Embed(string modelDir, IReadOnlyList<string> sentences, CancellationToken cancellationToken)
    {
        using var folder = ModelFolder.Open(modelDir, LlamaLanguageModelComparer.PackedReaders);
        using var encoder = SentenceEncoder.Load(folder);
        encoder.Model.to(ComputeDevice.Preferred);
        using var embeddings = encoder.Encode(sentences, cancellationToken: cancellationToken);
        return embeddings.contiguous().data<float>().ToArray();
    }
}
