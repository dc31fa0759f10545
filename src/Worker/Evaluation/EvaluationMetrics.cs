namespace Optimizer.Worker.Evaluation;

/// <summary>Everything the rubric's checks read. Null means "not measured" (the question may then not be asked).</summary>
public sealed record EvaluationMetrics
{
    public bool AllTensorsFinite { get; init; }
    /// <summary>Names of the first few tensors holding NaN or infinity (evidence).</summary>
    public IReadOnlyList<string> NonFiniteTensors { get; init; } = [];
    /// <summary>The candidate loaded and ran a forward pass; null when no forward pass was attempted.</summary>
    public bool? LoadsAndRuns { get; init; }
    public string? LoadError { get; init; }
    public double? CandidatePerplexity { get; init; }
    public double? BaselinePerplexity { get; init; }
    /// <summary>Mean token KL(baseline ‖ candidate) in nats.</summary>
    public double? MeanKl { get; init; }
    public double? Top1Agreement { get; init; }
    public long? EvaluatedTokens { get; init; }
    /// <summary>Bytes of the candidate's safetensors files.</summary>
    public long SizeBytes { get; init; }
    public long? BaselineSizeBytes { get; init; }
    /// <summary>Weights stored quantized (elements of the original linears) and the bytes their packed tensors take.</summary>
    public long QuantizedParameters { get; init; }
    public long QuantizedBytes { get; init; }
    /// <summary>The quantized linears' size follows from bits and group size (<see cref="WeightStats.SizeSetByBits"/>).</summary>
    public bool QuantizedSizeSetByBits { get; init; } = true;
    /// <summary>Smallest input and output size among the quantized linears (for the size budget's overhead).</summary>
    public int MinQuantizedInFeatures { get; init; }
    public int MinQuantizedOutFeatures { get; init; }
    /// <summary>Elements of tensors stored unquantized, and the bytes they take in their stored dtype.</summary>
    public long OtherParameters { get; init; }
    public long OtherBytes { get; init; }
    /// <summary>Per-block relative output error against the baseline, for the perplexity drill-down; null until measured.</summary>
    public IReadOnlyList<double>? BlockOutputErrors { get; init; }
    /// <summary>Per block, the relative output error of each module type (<c>q_proj</c>, ...): the drill-down's last level.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>>? ModuleOutputErrors { get; init; }
    /// <summary>FARMS ESD alpha per linear weight of the candidate and of the baseline (diagnostics).</summary>
    public IReadOnlyDictionary<string, double>? EsdAlpha { get; init; }
    public IReadOnlyDictionary<string, double>? BaselineEsdAlpha { get; init; }
    /// <summary>Per-prompt rubric answers and choice accuracy from the task datasets; null without task datasets.</summary>
    public Tasks.TaskResults? Tasks { get; init; }
    /// <summary>Fraction of zeros over the pruned linears, when the candidate was pruned.</summary>
    public double? Sparsity { get; init; }
    /// <summary>The sparsity the prune job asked for (config.json <c>pruning_config.target_sparsity</c>).</summary>
    public double? TargetSparsity { get; init; }
    /// <summary>Sentence-embedding comparison with the baseline when the candidate is an encoder (Encoders/).</summary>
    public Encoders.EncoderSimilarity? Encoder { get; init; }
    /// <summary>Decode latency through the low-bit kernels beside the baseline's; null when no kernel runs the candidate.</summary>
    public Latency.LatencyMeasurement? Latency { get; init; }

    public double? PerplexityIncrease => CandidatePerplexity is { } c && BaselinePerplexity is { } b && b > 0 ? c / b - 1 : null;

    public double? CompressionRatio => BaselineSizeBytes is { } b && SizeBytes > 0 ? (double)b / SizeBytes : null;

    /// <summary>Average stored bits per quantized weight (codes, scales, zeros and g_idx included).</summary>
    public double? BitsPerWeight => QuantizedParameters > 0 ? QuantizedBytes * 8.0 / QuantizedParameters : null;

    /// <summary>The metrics as the flat snake_case map stored in <c>MetricsJson</c>.</summary>
    public IReadOnlyDictionary<string, object?> ToDictionary() => new Dictionary<string, object?>
    {
        ["all_tensors_finite"] = AllTensorsFinite,
        ["loads_and_runs"] = LoadsAndRuns,
        ["perplexity"] = CandidatePerplexity,
        ["baseline_perplexity"] = BaselinePerplexity,
        ["perplexity_increase"] = PerplexityIncrease,
        ["mean_kl"] = MeanKl,
        ["top1_agreement"] = Top1Agreement,
        ["evaluated_tokens"] = EvaluatedTokens,
        ["size_bytes"] = SizeBytes,
        ["baseline_size_bytes"] = BaselineSizeBytes,
        ["compression_ratio"] = CompressionRatio,
        ["bits_per_weight"] = BitsPerWeight,
        ["sparsity"] = Sparsity,
        ["latency_ms_per_token"] = Latency?.MsPerToken,
        ["baseline_latency_ms_per_token"] = Latency?.BaselineMsPerToken,
        ["speedup"] = Latency?.Speedup,
        ["latency_kernels"] = Latency?.Kernels,
        ["target_sparsity"] = TargetSparsity,
        ["encoder_sentences"] = Encoder?.Sentences,
        ["encoder_mean_cosine"] = Encoder?.MeanCosine,
        ["encoder_min_cosine"] = Encoder?.MinCosine,
        ["encoder_neighbour_agreement"] = Encoder?.NeighbourAgreement,
        ["encoder_pair_spearman"] = Encoder?.PairSpearman,
        ["task_accuracy"] = Tasks?.Choices?.Accuracy,
        ["baseline_task_accuracy"] = Tasks?.Choices?.BaselineAccuracy,
        ["task_choice_questions"] = Tasks?.Choices?.Questions,
        ["task_prompts"] = Tasks?.Prompts.Count,
        ["judge_model_id"] = Tasks?.JudgeModelId,
        ["block_output_errors"] = BlockOutputErrors,
        ["module_output_errors"] = ModuleOutputErrors,
        ["esd_alpha"] = EsdAlpha,
        ["baseline_esd_alpha"] = BaselineEsdAlpha,
    };
}
