using Optimizer.Worker.Evaluation.Diagnostics;
using Optimizer.Worker.Evaluation.Latency;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Prune.Compact;
using Optimizer.Worker.Methods.Quantize.Awq;
using Optimizer.Worker.Methods.Quantize.BitStack;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Methods.Quantize.Fp8;
using Optimizer.Worker.Methods.Quantize.Gptq;
using Optimizer.Worker.Methods.Quantize.Ptqtp;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Modeling.Tokenization;
using TorchSharp;

namespace Optimizer.Worker.Evaluation;

/// <summary>
/// Loads Llama-family checkpoints (dense, or GPTQ, AWQ, FP8, FP4, trit-plane, BitStack and compact N:M packings dequantized
/// on load) with TorchSharp and compares them
/// with modeling's <see cref="LanguageModelMetrics"/> (ALGORITHMS.md 5.2 perplexity, KL, top-1).
/// </summary>
public sealed class LlamaLanguageModelComparer : ILanguageModelComparer
{
    /// <summary>Readers of every packed format the worker writes, so outputs can be evaluated.</summary>
    public static IReadOnlyList<IPackedWeightReader> PackedReaders { get; } = ReadersFor(null);

    /// <summary>Every packed reader, with BitStack models loaded to <paramref name="budgetMb"/> (every block when null).</summary>
    public static IReadOnlyList<IPackedWeightReader> ReadersFor(double? budgetMb) =>
    [
        new GptqPackedWeightReader(), new AwqPackedWeightReader(), new Fp8PackedWeightReader(), new Fp4PackedWeightReader(),
        new PtqtpPackedWeightReader(), new BitStackPackedWeightReader(budgetMb), new NmCompactPackedWeightReader(),
    ];

    public Task<LanguageModelEvaluation> CompareAsync(LanguageModelComparisonRequest request, CancellationToken cancellationToken) =>
        Task.Run(() => Compare(request, cancellationToken), cancellationToken);

    private static LanguageModelEvaluation Compare(LanguageModelComparisonRequest request, CancellationToken cancellationToken)
    {
        using var candidateFolder = ModelFolder.Open(request.CandidateDir, ReadersFor(request.BudgetMb));
        var tokenizer = TokenizerLoader.Load(request.CandidateDir);
        var tokens = tokenizer.EncodeToIds(request.Text);
        var config = LlamaConfig.FromHf(candidateFolder.Config);
        var seqLen = request.SeqLen ?? Math.Min(2048, config.MaxPositionEmbeddings);
        if (tokens.Count < seqLen)
        {
            throw new JobFailedException(JobErrorCodes.InvalidDataset,
                $"The evaluation text has {tokens.Count} tokens, fewer than one window of {seqLen}.");
        }
        using var candidate = LlamaForCausalLM.FromFolder(candidateFolder);
        candidate.to(ComputeDevice.Preferred);
        if (request.BaselineDir is null)
        {
            var alone = LanguageModelMetrics.Perplexity(candidate, tokens, seqLen, request.MaxTokens, cancellationToken: cancellationToken);
            return new LanguageModelEvaluation(alone.Perplexity, null, null, null, alone.TokensEvaluated);
        }
        using var baselineFolder = ModelFolder.Open(request.BaselineDir, PackedReaders);
        using var baseline = LlamaForCausalLM.FromFolder(baselineFolder);
        baseline.to(ComputeDevice.Preferred);
        var comparison = LanguageModelMetrics.Compare(baseline, candidate, tokens, seqLen, request.MaxTokens,
            cancellationToken: cancellationToken);
        var diagnostics = Diagnose(candidateFolder, candidate, baselineFolder, baseline, tokens, seqLen, cancellationToken);
        // The quality metrics above ran the dequantized candidate; the latency runs its linears on the low-bit kernels.
        var latency = DecodeLatency.TryMeasure(candidateFolder, baseline, cancellationToken);
        return new LanguageModelEvaluation(comparison.Candidate.Perplexity, comparison.Baseline.Perplexity,
            comparison.MeanKl, comparison.Top1Agreement, comparison.Candidate.TokensEvaluated, diagnostics, latency);
    }

    /// <summary>
    /// Per-layer diagnostics; each part is best effort (null when the models differ in shape or a weight cannot be
    /// read) because a diagnostic must never fail the evaluation it explains.
    /// </summary>
    private static LayerDiagnostics Diagnose(ModelFolder candidateFolder, LlamaForCausalLM candidate, ModelFolder baselineFolder,
        LlamaForCausalLM baseline, IReadOnlyList<int> tokens, int seqLen, CancellationToken cancellationToken)
    {
        LayerErrors? errors = null;
        if (candidate.Config.NumHiddenLayers == baseline.Config.NumHiddenLayers && candidate.Config.HiddenSize == baseline.Config.HiddenSize)
        {
            var windows = LanguageModelMetrics.Windows(tokens, seqLen).Take(LayerDiagnostics.Windows).ToList();
            try
            {
                errors = ReconstructionError.Measure(baseline, candidate, windows, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // e.g. Monarch-factored linears, whose dense modules hold no weights: no per-layer errors.
                errors = null;
            }
        }
        return new LayerDiagnostics(errors, TryAlphas(candidateFolder, candidate, cancellationToken),
            TryAlphas(baselineFolder, baseline, cancellationToken));
    }

    private static IReadOnlyDictionary<string, double>? TryAlphas(ModelFolder folder, LlamaForCausalLM model, CancellationToken cancellationToken)
    {
        try
        {
            return LayerDiagnostics.Alphas(folder, model, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return null;
        }
    }
}
