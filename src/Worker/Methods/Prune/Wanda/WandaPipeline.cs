using Optimizer.Domain.Methods.Prune.Wanda;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Hosting;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Modeling.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune.Wanda;

/// <summary>
/// Wanda (ALGORITHMS.md 2.2): calibrate layer by layer on the job's calibration dataset (default the built-in
/// Moby-Dick calibration chapters), prune by |W|·‖X‖₂ per output row, write the dense model with zeros.
/// </summary>
/// <remarks>Needs a Llama-family causal LM (the model is built in float32, one copy).</remarks>
[JobPipeline("prune", "wanda")]
public sealed class WandaPipeline(IDatasetText datasets) : IJobPipeline<WandaOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, WandaOptions options, CancellationToken cancellationToken)
    {
        var spec = PruneSpec.From(options);
        using var folder = ModelFiles.OpenSource(context.Source.LocalDir);
        var plan = await Task.Run(() => PrunePlan.For(folder, spec, options, cancellationToken), cancellationToken);
        var writer = new PrunedModelWriter(context, folder, plan, spec, "wanda");
        await writer.AnnounceAsync(cancellationToken);

        var text = await datasets.LoadAsync(context.Job.TenantId,
            context.Job.CalibrationDatasetId ?? BuiltinDatasetSeeder.CalibrationId, cancellationToken);
        using var model = LoadModel(folder);
        using var windows = await Task.Run(() => Windows(context.Source.LocalDir, text, options, model.Config.MaxPositionEmbeddings),
            cancellationToken);
        await context.Progress.EventAsync("info", "calibrate",
            $"Calibrating on {windows.shape[0]} windows of {windows.shape[1]} tokens.", null, cancellationToken);

        var layers = model.Model.Layers.Count;
        await Task.Run(() => WandaCalibrator.Prune(model, windows, name => plan.Targets.Contains(name) ? plan.SpecFor(name, spec) : null, index =>
            context.Progress.ReportAsync("prune", 0.05 + 0.8 * (index + 1) / layers, $"layer {index}", cancellationToken)
                .GetAwaiter().GetResult(), cancellationToken), cancellationToken);

        // The pruned float32 weights hold the mask; applying it to the stored tensor keeps the source dtype exactly.
        return await writer.WriteAsync(PrunedWeights.MaskFrom(model), 0.85, cancellationToken);
    }

    private static LlamaForCausalLM LoadModel(ModelFolder folder)
    {
        try
        {
            return LlamaForCausalLM.FromFolder(folder);
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or NotSupportedException or InvalidOperationException)
        {
            throw new JobFailedException(JobErrorCodes.InvalidModel, $"Wanda needs a Llama-family causal LM: {ex.Message}", ex);
        }
    }

    /// <summary>Up to <c>calibration_samples</c> windows of <c>seq_len</c> tokens, evenly spaced over the text.</summary>
    private static Tensor Windows(string modelDir, string text, WandaOptions options, int maxPositions)
    {
        var tokens = TokenizerLoader.Load(modelDir).EncodeToIds(text);
        var length = Math.Min(Math.Min(options.SeqLen, maxPositions), tokens.Count);
        if (length < 16)
        {
            throw new JobFailedException(JobErrorCodes.InvalidDataset, $"The calibration text has {tokens.Count} tokens; Wanda needs at least 16.");
        }
        var count = Math.Min(options.CalibrationSamples, tokens.Count / length);
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
}
