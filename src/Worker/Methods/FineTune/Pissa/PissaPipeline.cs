using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.FineTune.Pissa;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.FineTune.Lora;
using Optimizer.Worker.Methods.FineTune.Shared;
using TorchSharp.Modules;

namespace Optimizer.Worker.Methods.FineTune.Pissa;

/// <summary><c>finetune/pissa</c> (ALGORITHMS.md 4.2): PiSSA adapters (SVD init, frozen residual), trained by <see cref="FineTuneRunner"/>.</summary>
[JobPipeline("finetune", "pissa")]
public sealed class PissaPipeline(IDatasetText datasets, ICheckpointModels checkpoints) : IJobPipeline<PissaOptions>
{
    public Task<PipelineResult> RunAsync(PipelineContext context, PissaOptions options, CancellationToken cancellationToken) =>
        new FineTuneRunner(datasets, checkpoints).RunAsync(context, options, compander => new PissaFactory(options, compander), cancellationToken);
}

/// <summary>
/// Builds <see cref="PissaLinear"/>s. The exported adapter is PEFT's PiSSA-converted-to-LoRA form against the original
/// weights: rank 2r, α doubled (same α/r), so it applies to the unmodified base model.
/// </summary>
public sealed class PissaFactory(PissaOptions options, WeightCompander? compander) : IAdapterFactory
{
    public string PeftType => "LORA";

    public AdapterLinear Create(string moduleName, Linear baseLayer) =>
        PissaLinear.Create(baseLayer, options.Rank, LoraLinear.ScalingFor(options.Alpha, options.Rank, rsLora: false), options.Dropout,
            options.Niter, compander);

    public void DescribePeft(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config["r"] = 2 * options.Rank;
        config["lora_alpha"] = 2 * options.Alpha;
        config["lora_dropout"] = options.Dropout;
        config["use_rslora"] = false;
        // Converted to a plain LoRA delta: loading it must not re-run the SVD init.
        config["init_lora_weights"] = true;
        config["fan_in_fan_out"] = false;
    }
}
