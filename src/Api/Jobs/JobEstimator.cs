using System.Text.Json;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Domain.Methods.Evaluate.Standard;

namespace Optimizer.Api.Jobs;

/// <summary>
/// A size-based preflight: peak memory, disk and time of a job from its input models' sizes and widths and its params.
/// It follows how the worker runs each family of methods (an upper-bound style guess, checked against the measured
/// peak of real jobs by <c>PreflightMemoryEndToEndTests</c>):
/// <list type="bullet">
/// <item>weight streaming (rtn, fp8, magnitude, merges): the inputs are memory-mapped and one tensor at a time is
/// converted to float32, the largest (usually the embedding) costing most — for a merge, that tensor of every model
/// together with its task vector;</item>
/// <item>calibrated methods (wanda, gptq, awq, sparsegpt): the model is built in float32 and a forward pass runs over
/// the calibration text, keeping each layer's inputs and outputs for all samples, one attention score matrix and the
/// logits of a window;</item>
/// <item>evaluation: batches of <see cref="EvaluationBatch"/> windows, whose logits (<c>batch × window × vocab</c>
/// float32) dominate small models; see <see cref="EvaluationLogitCopies"/>;</item>
/// <item>fine-tuning: weights, gradients and two optimizer moments, the training batch's logits and their gradients,
/// and activations kept for the backward pass.</item>
/// </list>
/// A job asking for an evaluation also holds the output and its source model in float32; after fine-tuning the
/// evaluation comes on top of the training peak (the worker keeps its heap, see the worker's NativeAllocatorTuning).
/// </summary>
public static class JobEstimator
{
    /// <summary>The .NET runtime, libtorch and buffers of an idle worker.</summary>
    public const long RuntimeBytes = 384L * 1024 * 1024;

    /// <summary>Windows the evaluator runs per forward pass (LanguageModelMetrics' batch).</summary>
    private const long EvaluationBatch = 4;

    /// <summary>
    /// Evaluation-batch logits held at the peak of an evaluation against a source model. Both models' logits and their
    /// log-softmax are the visible part; tensors the .NET GC frees late make the rest, so the peak varies from run to run:
    /// measured on the fixture LM (50k vocabulary), 7.5 to 11 copies above the weights and runtime.
    /// </summary>
    private const long EvaluationLogitCopies = 12;

    /// <summary>The same for an <c>evaluate</c> job (one model, perplexity only): 3 copies measured.</summary>
    private const long StandaloneEvaluationLogitCopies = 4;

    /// <summary>Training-batch logits held at a fine-tuning step's peak: logits, log-softmax and their gradients (4.7 measured).</summary>
    private const long TrainingLogitCopies = 5;

    /// <summary>Assumed CPU throughput for per-weight work (weights per second), conservative for a 2-core host.</summary>
    private const double WeightsPerSecond = 20_000_000;

    /// <summary>Window assumed when neither the params nor the model say (the evaluator's default cap).</summary>
    private const long DefaultSeqLen = 2048;

    private static readonly HashSet<string> Streaming = new(StringComparer.Ordinal) { "rtn", "fp8", "magnitude" };

    public static JobEstimate Estimate(string type, string method, string queue, object options, EvaluationSpec? evaluation,
        IReadOnlyList<ModelShape> models, long workerMemoryBytes)
    {
        var parameters = models.Sum(m => m.Parameters);
        var size = models.Sum(m => m.SizeBytes);
        var float32 = parameters * 4;
        var (samples, seqLen, batch) = SizingParamsOf(options);
        var first = models.Count > 0 ? models[0] : new ModelShape(0, 0, 0, 0, 0, 0);
        var window = Window(first, seqLen);
        long work = type switch
        {
            // One tensor of every model and its (sparsified) task vector in float32, plus the base and a few buffers.
            "merge" => size + (2L * models.Count + 4) * LargestTensorFloat32(first),
            "finetune" => 4 * float32 + TrainingLogitCopies * Logits(first, batch, window) + Activations(first, batch, window) * 4,
            "evaluate" => float32 + StandaloneEvaluationLogitCopies * Logits(first, EvaluationBatch, window)
                + Forward(first, samples: EvaluationBatch, window),
            _ when Streaming.Contains(method) => size + 2 * LargestTensorFloat32(first),
            _ => float32 + Forward(first, samples, window),
        };
        if (evaluation is not null)
        {
            // The evaluator holds the output and its source in float32 and runs batches of windows through each.
            var evaluationWindow = Window(first, evaluation.SeqLen);
            var evaluating = 2 * float32 + EvaluationLogitCopies * Logits(first, EvaluationBatch, evaluationWindow)
                + Forward(first, samples: EvaluationBatch, evaluationWindow);
            work = type == "finetune" ? work + evaluating : Math.Max(work, evaluating);
        }
        var peak = RuntimeBytes + work;
        // Inputs downloaded, the output written, and as much again in per-layer checkpoints.
        var disk = size + 2 * Math.Max(size, float32 / 2);
        var passes = type switch { "finetune" => 50.0, "evaluate" => 4.0, _ => 2.0 } + (evaluation is null ? 0 : 4);
        var seconds = (long)Math.Ceiling(5 + parameters * passes / WeightsPerSecond);
        return new JobEstimate(peak, disk, seconds, queue, workerMemoryBytes, peak <= workerMemoryBytes);
    }

    /// <summary>Hidden states in and out of one layer for every sample, one sample's attention scores, one window's logits (and a copy or two).</summary>
    private static long Forward(ModelShape model, long samples, long seqLen) =>
        Activations(model, samples, seqLen) + model.Heads * seqLen * seqLen * 4 + Logits(model, 1, seqLen) * 3;

    /// <summary>Float32 logits of <paramref name="windows"/> windows.</summary>
    private static long Logits(ModelShape model, long windows, long seqLen) => windows * seqLen * model.VocabSize * 4;

    private static long Activations(ModelShape model, long samples, long seqLen) =>
        samples * seqLen * Hidden(model) * 4 * 2;

    /// <summary>The embedding (vocab × hidden) when the config says, else a quarter of the model.</summary>
    private static long LargestTensorFloat32(ModelShape model) =>
        model.VocabSize > 0 && model.HiddenSize > 0 ? model.VocabSize * model.HiddenSize * 4 : model.Parameters;

    /// <summary>The hidden size, or a width typical of the model's size when the config is unknown.</summary>
    private static long Hidden(ModelShape model) =>
        model.HiddenSize > 0 ? model.HiddenSize : Math.Max(256, (long)Math.Sqrt(model.Parameters / 12.0));

    /// <summary>The window a forward pass uses: the params' (or the default), never beyond the model's positions.</summary>
    private static long Window(ModelShape model, long? seqLen)
    {
        var window = seqLen ?? DefaultSeqLen;
        return model.MaxPositions > 0 ? Math.Min(window, model.MaxPositions) : window;
    }

    /// <summary>
    /// The params that size a job, where the method has them: calibration samples (1 if absent), window (null: the
    /// model's or the default) and fine-tuning batch (the methods' default, 4, if absent).
    /// </summary>
    private static (long Samples, long? SeqLen, long Batch) SizingParamsOf(object options)
    {
        var json = JsonSerializer.SerializeToElement(options, options.GetType(), Domain.Common.OptimizerJson.Options);
        return (Number(json, "calibration_samples") ?? 1, Number(json, "seq_len"), Number(json, "batch_size") ?? 4);
    }

    /// <summary>An integer option; a null option (e.g. evaluate's seq_len, defaulted by the worker) is absent, not a number.</summary>
    private static long? Number(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;
}
