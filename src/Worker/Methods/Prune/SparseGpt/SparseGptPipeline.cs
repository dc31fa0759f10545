using Optimizer.Domain.Methods.Prune.SparseGpt;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Methods.Prune.SparseGpt;

/// <summary>
/// SparseGPT (ALGORITHMS.md 2.3): calibrate layer by layer on the job's calibration dataset, prune each linear with OBS
/// compensation from its input Hessian, feed the pruned block's output forward, write the dense model with zeros.
/// </summary>
/// <remarks>Needs a Llama-family causal LM (the model is built in float32, one copy).</remarks>
[JobPipeline("prune", "sparsegpt")]
public sealed class SparseGptPipeline(IDatasetText datasets) : IJobPipeline<SparseGptOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, SparseGptOptions options, CancellationToken cancellationToken)
    {
        var spec = PruneSpec.From(options);
        using var folder = ModelFiles.OpenSource(context.Source.LocalDir);
        var plan = await Task.Run(() => PrunePlan.For(folder, spec, options, cancellationToken), cancellationToken);
        var writer = new PrunedModelWriter(context, folder, plan, spec, "sparsegpt");
        await writer.AnnounceAsync(cancellationToken);

        using var inputs = await CalibrationInputs.LoadAsync(datasets, context, folder, options.CalibrationSamples, options.SeqLen, "SparseGPT",
            cancellationToken);
        var (model, windows) = (inputs.Model, inputs.Windows);

        var layers = model.Model.Layers.Count;
        using var observer = new SparseGptObserver(name => plan.Targets.Contains(name) ? plan.SpecFor(name, spec) : null,
            options.BlockSize, options.Damp);
        await Task.Run(() => LayerwiseCalibrator.Run(model, windows, new CalibrationSettings(Checkpoint: context.Checkpoint), observer, index =>
            context.Progress.ReportAsync("prune", 0.05 + 0.8 * (index + 1) / layers, $"layer {index}", cancellationToken)
                .GetAwaiter().GetResult(), cancellationToken), cancellationToken);

        return await writer.WriteAsync(PrunedWeights.FromModel(model), 0.85, cancellationToken);
    }
}
