using System.Text.Json;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Domain.Methods.Evaluate.Standard;

namespace Optimizer.Api.Jobs;

/// <summary>
/// A size-based preflight: peak memory, disk and time of a job from its input models' sizes and widths and its params.
/// It follows how the worker runs each family of methods (an upper-bound style guess, not a measurement):
/// <list type="bullet">
/// <item>weight streaming (rtn, fp8, magnitude, merges): the inputs are memory-mapped and one tensor at a time is
/// converted to float32, the largest (usually the embedding) costing most — for a merge, that tensor of every model
/// together with its task vector;</item>
/// <item>calibrated methods (wanda, gptq, awq, sparsegpt) and evaluation: the model is built in float32 and a forward
/// pass runs over the calibration or evaluation text, keeping each layer's inputs and outputs for all samples, one
/// attention score matrix and the logits of a window;</item>
/// <item>fine-tuning: weights, gradients and two optimizer moments, plus activations kept for the backward pass.</item>
/// </list>
/// A job asking for an evaluation also needs the output and its source model in float32 together.
/// </summary>
public static class JobEstimator
{
    /// <summary>The .NET runtime, libtorch and buffers of an idle worker.</summary>
    public const long RuntimeBytes = 384L * 1024 * 1024;

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
        var (samples, seqLen) = CalibrationOf(options);
        var first = models.Count > 0 ? models[0] : new ModelShape(0, 0, 0, 0, 0, 0);
        long work = type switch
        {
            // One tensor of every model and its (sparsified) task vector in float32, plus the base and a few buffers.
            "merge" => size + (2L * models.Count + 4) * LargestTensorFloat32(first),
            "finetune" => 4 * float32 + Activations(first, samples: 8, Window(first, seqLen)) * 4,
            "evaluate" => float32 + Forward(first, samples: 1, Window(first, seqLen)),
            _ when Streaming.Contains(method) => size + 2 * LargestTensorFloat32(first),
            _ => float32 + Forward(first, samples, Window(first, seqLen)),
        };
        if (evaluation is not null)
        {
            // The evaluator holds the output and its source in float32 and runs one window through each.
            work = Math.Max(work, 2 * float32 + Forward(first, samples: 1, Window(first, evaluation.SeqLen)));
        }
        var peak = RuntimeBytes + work;
        // Inputs downloaded, the output written, and as much again in per-layer checkpoints.
        var disk = size + 2 * Math.Max(size, float32 / 2);
        var passes = type switch { "finetune" => 50.0, "evaluate" => 4.0, _ => 2.0 } + (evaluation is null ? 0 : 4);
        var seconds = (long)Math.Ceiling(5 + parameters * passes / WeightsPerSecond);
        return new JobEstimate(peak, disk, seconds, queue, workerMemoryBytes, peak <= workerMemoryBytes);
    }

    /// <summary>Hidden states in and out of one layer for every sample, one sample's attention scores, one window's logits.</summary>
    private static long Forward(ModelShape model, long samples, long seqLen) =>
        Activations(model, samples, seqLen) + model.Heads * seqLen * seqLen * 4 + seqLen * model.VocabSize * 4 * 2;

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

    /// <summary>The calibration sample count and window of the params, if the method has them.</summary>
    private static (long Samples, long? SeqLen) CalibrationOf(object options)
    {
        var json = JsonSerializer.SerializeToElement(options, options.GetType(), Domain.Common.OptimizerJson.Options);
        // A null option (e.g. evaluate's seq_len, defaulted by the worker) is absent, not a number.
        long samples = json.TryGetProperty("calibration_samples", out var n) && n.ValueKind == JsonValueKind.Number
            && n.TryGetInt64(out var count) ? count : 1;
        long? seqLen = json.TryGetProperty("seq_len", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var length) ? length : null;
        return (samples, seqLen);
    }
}
