using System.Globalization;
using Optimizer.Domain.Reports;

namespace Optimizer.Worker.Evaluation;

/// <summary>The question bank of the standard report (ALGORITHMS.md Part B). A new question is one entry here.</summary>
public static class RubricBank
{
    public static IReadOnlyList<RubricQuestion> Standard { get; } =
    [
        new()
        {
            Id = "integrity.all_tensors_finite",
            Category = "integrity",
            IsCritical = (_, _) => true,
            IsRelevant = _ => true,
            Question = (_, _) => "Is every value of every floating-point tensor in the output finite (no NaN or infinity)?",
            Check = (c, _) => new RubricAnswer(c.Metrics.AllTensorsFinite,
                Evidence(("non_finite_tensors", c.Metrics.NonFiniteTensors))),
        },
        new()
        {
            Id = "integrity.output_loads_and_runs",
            Category = "integrity",
            IsCritical = (_, _) => true,
            IsRelevant = c => c.Metrics.LoadsAndRuns is not null,
            Question = (_, _) => "Does the output load in the worker and run a forward pass on the evaluation text?",
            Check = (c, _) => new RubricAnswer(c.Metrics.LoadsAndRuns == true, Evidence(("error", c.Metrics.LoadError))),
        },
        new()
        {
            Id = "quality.perplexity_within_tolerance",
            Category = "quality",
            Weight = 2.0,
            IsCritical = (_, t) => t.PerplexityCritical,
            IsRelevant = c => c.IsCausalLm && c.HasBaseline,
            Question = (_, t) => $"Is the perplexity at most {Percent(t.MaxPerplexityIncrease)} higher than the baseline's?",
            Check = (c, t) => new RubricAnswer(
                c.Metrics.PerplexityIncrease is { } increase && increase <= t.MaxPerplexityIncrease,
                Evidence(("perplexity", c.Metrics.CandidatePerplexity), ("baseline_perplexity", c.Metrics.BaselinePerplexity),
                    ("increase", c.Metrics.PerplexityIncrease), ("threshold", t.MaxPerplexityIncrease))),
            DrillDown = Diagnostics.PerplexityDrillDown.Children,
        },
        new()
        {
            Id = "quality.top1_agreement",
            Category = "quality",
            IsRelevant = c => c.IsCausalLm && c.HasBaseline,
            Question = (_, t) => $"Does the model's top-1 next-token prediction agree with the baseline's on at least {Percent(t.MinTop1Agreement)} of tokens?",
            Check = (c, t) => new RubricAnswer(
                c.Metrics.Top1Agreement is { } agreement && agreement >= t.MinTop1Agreement,
                Evidence(("top1_agreement", c.Metrics.Top1Agreement), ("threshold", t.MinTop1Agreement))),
        },
        new()
        {
            Id = "quality.mean_kl",
            Category = "quality",
            IsRelevant = c => c.IsCausalLm && c.HasBaseline,
            Question = (_, t) => $"Is the mean per-token KL(baseline ‖ model) at most {t.MaxMeanKl.ToString("0.###", CultureInfo.InvariantCulture)} nats?",
            Check = (c, t) => new RubricAnswer(
                c.Metrics.MeanKl is { } kl && kl <= t.MaxMeanKl,
                Evidence(("mean_kl", c.Metrics.MeanKl), ("threshold", t.MaxMeanKl))),
        },
        new()
        {
            Id = "efficiency.size_within_budget",
            Category = "efficiency",
            IsCritical = (_, _) => true,
            // LoRC factors, trit planes and BitStack blocks are sized by their layouts, not by (bits + overhead).
            IsRelevant = c => c.IsQuantized && c.Metrics.QuantizedParameters > 0 && c.Metrics.QuantizedSizeSetByBits,
            Question = (c, _) => $"Is the output no larger than (bits + overhead)/16 of its float16 size, i.e. at most {c.Bits} + " +
                $"{Overhead(c).ToString("0.###", CultureInfo.InvariantCulture)} bits per quantized weight, other tensors as stored?",
            Check = (c, _) =>
            {
                var budget = SizeBudgetBytes(c);
                return new RubricAnswer(c.Metrics.SizeBytes <= budget,
                    Evidence(("size_bytes", c.Metrics.SizeBytes), ("budget_bytes", budget),
                        ("bits_per_weight", c.Metrics.BitsPerWeight), ("overhead_bits", Overhead(c))));
            },
        },
        new()
        {
            Id = "efficiency.compression_ratio",
            Category = "efficiency",
            Weight = 0.5,
            IsRelevant = c => c.IsQuantized && c.HasBaseline && c.Metrics.BaselineSizeBytes is not null,
            Question = (_, _) => "Is the output smaller than its baseline (compression ratio above 1)?",
            Check = (c, _) => new RubricAnswer(c.Metrics.CompressionRatio is > 1.0,
                Evidence(("compression_ratio", c.Metrics.CompressionRatio), ("size_bytes", c.Metrics.SizeBytes),
                    ("baseline_size_bytes", c.Metrics.BaselineSizeBytes))),
        },
        new()
        {
            Id = "integrity.sparsity_achieved",
            Category = "integrity",
            IsCritical = (_, _) => true,
            IsRelevant = c => c.Metrics.Sparsity is not null && c.Metrics.TargetSparsity is not null,
            Question = (c, _) => $"Is the achieved sparsity within {Percent(SparsityTolerance)} of the target {Percent(c.Metrics.TargetSparsity ?? 0)}?",
            Check = (c, _) => new RubricAnswer(
                Math.Abs(c.Metrics.Sparsity!.Value - c.Metrics.TargetSparsity!.Value) <= SparsityTolerance,
                Evidence(("sparsity", c.Metrics.Sparsity), ("target_sparsity", c.Metrics.TargetSparsity), ("tolerance", SparsityTolerance))),
        },
        new()
        {
            Id = "task.choices_accuracy",
            Category = "task",
            Weight = 2.0,
            IsRelevant = c => c.Metrics.Tasks?.Choices is not null,
            Question = (c, t) => c.Metrics.Tasks!.Choices!.BaselineAccuracy is null
                ? "Is the multiple-choice accuracy (highest log-likelihood choice) above chance?"
                : $"Is the multiple-choice accuracy (highest log-likelihood choice) at most {Percent(t.MaxAccuracyDrop)} (absolute) below the baseline's?",
            Check = (c, t) =>
            {
                var choices = c.Metrics.Tasks!.Choices!;
                var threshold = choices.BaselineAccuracy is { } b ? b - t.MaxAccuracyDrop : 1.0 / choices.MeanChoices;
                var yes = choices.BaselineAccuracy is null ? choices.Accuracy > threshold : choices.Accuracy >= threshold - 1e-12;
                return new RubricAnswer(yes, Evidence(("accuracy", choices.Accuracy), ("baseline_accuracy", choices.BaselineAccuracy),
                    ("threshold", threshold), ("questions", choices.Questions)));
            },
        },
        .. Encoders.EncoderRubric.Questions,
        .. Latency.LatencyRubric.Questions,
    ];

    /// <summary>Absolute tolerance of the achieved-sparsity item (ALGORITHMS.md Part B: within 0.5 % of the target).</summary>
    public const double SparsityTolerance = 0.005;


    /// <summary>
    /// Safetensors bytes allowed: quantized weights at <c>bits + overhead</c>, the tensors a method keeps
    /// unquantized (embeddings, norms, lm_head) at their stored size — they stay in their original dtype by
    /// design, so a float32 source is not penalised for them — plus 64 KiB for headers.
    /// </summary>
    public static long SizeBudgetBytes(RubricContext context)
    {
        var m = context.Metrics;
        var quantizedBits = m.QuantizedParameters * ((context.Bits ?? 16) + Overhead(context));
        return (long)Math.Ceiling(quantizedBits / 8) + m.OtherBytes + 64 * 1024;
    }

    private static double Overhead(RubricContext c) =>
        RubricThresholds.SizeOverheadBits(c.Bits ?? 16, c.GroupSize ?? -1, c.Metrics.MinQuantizedInFeatures, c.Metrics.MinQuantizedOutFeatures);

    private static string Percent(double fraction) =>
        (fraction * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %";

    private static IReadOnlyDictionary<string, object?> Evidence(params (string Key, object? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);
}
