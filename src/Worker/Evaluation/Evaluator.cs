using System.Text.Json;
using System.Text.Json.Nodes;
using Optimizer.Domain.Common;
using Optimizer.Domain.Reports;
using Optimizer.Worker.Evaluation.Encoders;
using Optimizer.Worker.Evaluation.Tasks;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Hosting;
using Optimizer.Worker.Methods.Quantize.BitStack;

namespace Optimizer.Worker.Evaluation;

/// <summary>The standard evaluator: measures the candidate against its baseline and answers <see cref="RubricBank.Standard"/>.</summary>
public sealed class Evaluator(IDatasetText datasets, ILanguageModelComparer comparer, IEncoderComparer? encoders = null) : IModelEvaluator
{
    private readonly IEncoderComparer _encoders = encoders ?? new BertEncoderComparer();

    public async Task<EvaluationOutcome> EvaluateAsync(EvaluationRequest request, CancellationToken cancellationToken)
    {
        var candidate = request.Candidate;
        var quantization = candidate.Model.Quantization;
        var stats = await Task.Run(() => WeightStats.Read(candidate.LocalDir, quantization?.Bits), cancellationToken);
        var baselineStats = request.Baseline is null
            ? null
            : await Task.Run(() => WeightStats.Read(request.Baseline.LocalDir, request.Baseline.Model.Quantization?.Bits), cancellationToken);
        var isCausalLm = IsCausalLm(candidate.LocalDir);

        var metrics = new EvaluationMetrics
        {
            AllTensorsFinite = stats.NonFiniteTensors.Count == 0,
            NonFiniteTensors = stats.NonFiniteTensors,
            SizeBytes = stats.SizeBytes,
            BaselineSizeBytes = baselineStats?.SizeBytes,
            QuantizedParameters = stats.QuantizedParameters,
            QuantizedBytes = stats.QuantizedBytes,
            QuantizedSizeSetByBits = stats.SizeSetByBits,
            OtherParameters = stats.OtherParameters,
            OtherBytes = stats.OtherBytes,
            MinQuantizedInFeatures = stats.MinQuantizedInFeatures,
            MinQuantizedOutFeatures = stats.MinQuantizedOutFeatures,
        };
        if (BitStackBudget.SizeBytes(candidate.LocalDir, request.Spec.BudgetMb) is { } truncated)
        {
            // A BitStack model evaluated at a budget is as large as the blocks it loads, not as all its files.
            metrics = metrics with { SizeBytes = truncated };
        }
        if (ReadPruningConfig(candidate.LocalDir) is { } pruning)
        {
            metrics = metrics with
            {
                Sparsity = candidate.Model.Sparsity ?? pruning["sparsity"]?.GetValue<double>(),
                TargetSparsity = pruning["target_sparsity"]?.GetValue<double>(),
            };
        }
        if (isCausalLm)
        {
            await request.Context.Progress.ReportAsync("evaluate", 0.97, "Perplexity, KL and top-1 against the baseline", cancellationToken);
            var text = await datasets.LoadAsync(request.Job.TenantId, request.Spec.DatasetId ?? BuiltinDatasetSeeder.HeldOutId, cancellationToken);
            try
            {
                var comparison = await comparer.CompareAsync(new LanguageModelComparisonRequest(
                    candidate.LocalDir, request.Baseline?.LocalDir, text, request.Spec.SeqLen, request.Spec.MaxTokens, request.Spec.BudgetMb),
                    cancellationToken);
                metrics = metrics with
                {
                    LoadsAndRuns = true,
                    CandidatePerplexity = comparison.CandidatePerplexity,
                    BaselinePerplexity = comparison.BaselinePerplexity,
                    MeanKl = comparison.MeanKl,
                    Top1Agreement = comparison.Top1Agreement,
                    EvaluatedTokens = comparison.Tokens,
                    BlockOutputErrors = comparison.Diagnostics?.Errors?.Blocks,
                    ModuleOutputErrors = comparison.Diagnostics?.Errors?.Modules,
                    EsdAlpha = comparison.Diagnostics?.EsdAlpha,
                    BaselineEsdAlpha = comparison.Diagnostics?.BaselineEsdAlpha,
                    Latency = comparison.Latency,
                };
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                metrics = metrics with { LoadsAndRuns = false, LoadError = ex.Message };
            }
            if (metrics.LoadsAndRuns == true)
            {
                metrics = metrics with { Tasks = await TaskEvaluationStep.MeasureAsync(datasets, request, cancellationToken) };
            }
        }
        else if (EncoderEvaluationStep.IsEncoder(candidate.LocalDir))
        {
            metrics = await EncoderEvaluationStep.MeasureAsync(_encoders, datasets, request, metrics, cancellationToken);
        }

        var context = new RubricContext(request.Job.Type, request.Job.Method, quantization?.Bits, quantization?.GroupSize,
            isCausalLm, request.Baseline is not null, metrics, request.Spec.Rubric);
        var card = RubricEngine.Answer(context, [.. RubricBank.Standard, .. TaskRubric.Questions(metrics.Tasks)]);
        var metricMap = metrics.ToDictionary();
        var report = new Report(request.Job.TenantId, request.Job.Id, candidate.Model.Id, request.Baseline?.Model.Id)
        {
            Verdict = card.Verdict,
            Score = card.Score,
            ItemsTotal = card.ItemsTotal,
            ItemsPassed = card.ItemsPassed,
            MetricsJson = JsonSerializer.Serialize(metricMap, OptimizerJson.Options),
            ItemsJson = JsonSerializer.Serialize(card.Items, OptimizerJson.Options),
        };
        var jobMetrics = new Dictionary<string, object?>(metricMap)
        {
            ["report_score"] = card.Score,
            ["report_verdict"] = card.Verdict,
        };
        return new EvaluationOutcome(report, jobMetrics);
    }

    /// <summary>The <c>pruning_config</c> a prune pipeline writes into config.json, or null.</summary>
    private static JsonObject? ReadPruningConfig(string modelDir)
    {
        var path = Path.Combine(modelDir, "config.json");
        return File.Exists(path) && JsonNode.Parse(File.ReadAllText(path)) is JsonObject config
            ? config["pruning_config"] as JsonObject
            : null;
    }

    /// <summary>Causal LMs declare an architecture ending in <c>ForCausalLM</c> or <c>LMHeadModel</c> in config.json.</summary>
    public static bool IsCausalLm(string modelDir)
    {
        var path = Path.Combine(modelDir, "config.json");
        if (!File.Exists(path))
        {
            return false;
        }
        var config = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        return config?["architectures"] is JsonArray architectures && architectures.Any(a =>
            a?.GetValue<string>() is { } name &&
            (name.EndsWith("ForCausalLM", StringComparison.Ordinal) || name.EndsWith("LMHeadModel", StringComparison.Ordinal)));
    }
}
