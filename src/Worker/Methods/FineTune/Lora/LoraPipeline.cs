using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.FineTune.Lora;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.FineTune.Shared;
using TorchSharp.Modules;

namespace Optimizer.Worker.Methods.FineTune.Lora;

/// <summary><c>finetune/lora</c> (ALGORITHMS.md 4.1): LoRA adapters on the target projections, trained by <see cref="FineTuneRunner"/>.</summary>
[JobPipeline("finetune", "lora")]
public sealed class LoraPipeline(IDatasetText datasets, ICheckpointModels checkpoints) : IJobPipeline<LoraOptions>
{
    public Task<PipelineResult> RunAsync(PipelineContext context, LoraOptions options, CancellationToken cancellationToken) =>
        new FineTuneRunner(datasets, checkpoints).RunAsync(context, options, compander => new LoraFactory(options, compander), cancellationToken);
}

/// <summary>Builds <see cref="LoraLinear"/>s; the PEFT config is a plain <c>LORA</c> one.</summary>
public sealed class LoraFactory(LoraOptions options, WeightCompander? compander) : IAdapterFactory
{
    public string PeftType => "LORA";

    public AdapterLinear Create(string moduleName, Linear baseLayer) =>
        new LoraLinear(baseLayer, options.Rank, LoraLinear.ScalingFor(options.Alpha, options.Rank, options.UseRslora), options.Dropout, compander);

    public void DescribePeft(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config["r"] = options.Rank;
        config["lora_alpha"] = options.Alpha;
        config["lora_dropout"] = options.Dropout;
        config["use_rslora"] = options.UseRslora;
        config["init_lora_weights"] = true;
        config["fan_in_fan_out"] = false;
    }
}
