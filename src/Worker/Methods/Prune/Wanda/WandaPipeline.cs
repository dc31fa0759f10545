using Optimizer.Domain.Methods.Prune.Wanda;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;
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

        using var inputs = await CalibrationInputs.LoadAsync(datasets, context, folder, options.CalibrationSamples, options.SeqLen, "Wanda",
            cancellationToken);
        var (model, windows) = (inputs.Model, inputs.Windows);

        var layers = model.Model.Layers.Count;
        await Task.Run(() => WandaCalibrator.Prune(model, windows, name => plan.Targets.Contains(name) ? plan.SpecFor(name, spec) : null, index =>
            context.Progress.ReportAsync("prune", 0.05 + 0.8 * (index + 1) / layers, $"layer {index}", cancellationToken)
                .GetAwaiter().GetResult(), cancellationToken, context.Checkpoint), cancellationToken);

        // The pruned float32 weights hold the mask; applying it to the stored tensor keeps the source dtype exactly.
        return await writer.WriteAsync(PrunedWeights.MaskFrom(model), 0.85, cancellationToken);
    }
}
