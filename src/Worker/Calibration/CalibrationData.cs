using Optimizer.Worker.Execution;
using Optimizer.Worker.Hosting;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Modeling.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Calibration;

/// <summary>Loading what a calibrating method needs: its text, its windows of token ids, and the float model.</summary>
public static class CalibrationData
{
    /// <summary>The job's calibration dataset, or the built-in Moby-Dick calibration chapters when it names none.</summary>
    public static Task<string> LoadTextAsync(IDatasetText datasets, PipelineContext context, CancellationToken cancellationToken) =>
        datasets.LoadAsync(context.Job.TenantId, context.Job.CalibrationDatasetId ?? BuiltinDatasetSeeder.CalibrationId, cancellationToken);

    /// <summary>
    /// Up to <paramref name="samples"/> windows of <paramref name="seqLen"/> tokens (capped at the model's positions and
    /// the text), evenly spaced over the text: <c>[count, length]</c> int64.
    /// </summary>
    /// <exception cref="JobFailedException"><c>invalid_dataset</c> when the text has fewer than 16 tokens.</exception>
    public static Tensor Windows(string modelDir, string text, int samples, int seqLen, int maxPositions, string method)
    {
        var tokens = TokenizerLoader.Load(modelDir).EncodeToIds(text);
        var length = Math.Min(Math.Min(seqLen, maxPositions), tokens.Count);
        if (length < 16)
        {
            throw new JobFailedException(JobErrorCodes.InvalidDataset, $"The calibration text has {tokens.Count} tokens; {method} needs at least 16.");
        }
        var count = Math.Min(samples, tokens.Count / length);
        var ids = new long[count * length];
        for (var i = 0; i < count; i++)
        {
            var start = count == 1 ? 0 : (long)i * (tokens.Count - length) / (count - 1);
            for (var t = 0; t < length; t++)
            {
                ids[i * length + t] = tokens[(int)start + t];
            }
        }
        return torch.tensor(ids, [count, length], ScalarType.Int64);
    }

    /// <summary>Architectures the Llama module runs (same block layout and weight names).</summary>
    private static readonly string[] LlamaFamily = ["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"];

    /// <summary>Builds the float32 Llama model of <paramref name="folder"/>; anything else fails the job as <c>invalid_model</c>.</summary>

    public static LlamaForCausalLM LoadModel(ModelFolder folder, string method)
    {
        // Checked by name first: an encoder's config parses as far as the shapes, and would then fail deep in the
        // loader with an error that says nothing about the cause.
        if (!folder.Config.Architectures.Any(LlamaFamily.Contains))
        {
            var found = folder.Config.Architectures.Count > 0 ? string.Join(", ", folder.Config.Architectures) : "none";
            throw new JobFailedException(JobErrorCodes.InvalidModel,
                $"{method} needs a Llama-family causal LM ({string.Join(", ", LlamaFamily)}); this model's architecture is {found}. "
                + "Weight-only methods (rtn, fp8, fp4, magnitude) work on any supported model.");
        }
        try
        {
            return LlamaForCausalLM.FromFolder(folder);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or NotSupportedException or InvalidOperationException)
        {
            throw new JobFailedException(JobErrorCodes.InvalidModel, $"{method} needs a Llama-family causal LM: {ex.Message}", ex);
        }
    }
}
