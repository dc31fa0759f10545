using System.Text.Json.Nodes;
using Optimizer.Worker.Hosting;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Bert;

namespace Optimizer.Worker.Evaluation.Encoders;

/// <summary>The evaluator's measurements for encoder models: load and run, then the sentence-embedding comparison.</summary>
public static class EncoderEvaluationStep
{
    /// <summary>True when config.json declares a BERT encoder the worker can run.</summary>
    public static bool IsEncoder(string modelDir)
    {
        var path = Path.Combine(modelDir, ModelFolder.ConfigFileName);
        return File.Exists(path) && JsonNode.Parse(File.ReadAllText(path)) is JsonObject && BertConfig.IsBert(HfConfig.Load(path));
    }

    /// <summary>Adds <see cref="EvaluationMetrics.Encoder"/> and the load-and-run answer to <paramref name="metrics"/>.</summary>
    public static async Task<EvaluationMetrics> MeasureAsync(IEncoderComparer comparer, Execution.IDatasetText datasets,
        EvaluationRequest request, EvaluationMetrics metrics, CancellationToken cancellationToken)
    {
        await request.Context.Progress.ReportAsync("evaluate", 0.97, "Sentence embeddings against the baseline", cancellationToken);
        var text = await datasets.LoadAsync(request.Job.TenantId, request.Spec.DatasetId ?? BuiltinDatasetSeeder.HeldOutId, cancellationToken);
        var sentences = SentenceSplitter.Split(text, BertEncoderComparer.DefaultSentences);
        try
        {
            var comparison = await comparer.CompareAsync(
                new EncoderComparisonRequest(request.Candidate.LocalDir, request.Baseline?.LocalDir, sentences), cancellationToken);
            return metrics with { LoadsAndRuns = true, Encoder = comparison.Similarity };
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not Execution.JobFailedException)
        {
            return metrics with { LoadsAndRuns = false, LoadError = ex.Message };
        }
    }
}
