using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.FineTune.Bone;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.FineTune.Shared;
using TorchSharp.Modules;

namespace Optimizer.Worker.Methods.FineTune.Bone;

/// <summary><c>finetune/bone</c> (ALGORITHMS.md 4.3): Bone/MiSS blocks (<c>balance</c> or <c>bat</c>), trained by <see cref="FineTuneRunner"/>.</summary>
[JobPipeline("finetune", "bone")]
public sealed class BonePipeline(IDatasetText datasets, ICheckpointModels checkpoints) : IJobPipeline<BoneOptions>
{
    public Task<PipelineResult> RunAsync(PipelineContext context, BoneOptions options, CancellationToken cancellationToken) =>
        new FineTuneRunner(datasets, checkpoints).RunAsync(context, options, compander => new BoneFactory(options, compander), cancellationToken);
}

/// <summary>Builds <see cref="BoneLinear"/>s; exported as PEFT <c>MISS</c> (<c>init_weights</c> true = balance, "bat").</summary>
public sealed class BoneFactory(BoneOptions options, WeightCompander? compander) : IAdapterFactory
{
    public string PeftType => "MISS";

    public AdapterLinear Create(string moduleName, Linear baseLayer)
    {
        try
        {
            return new BoneLinear(baseLayer, options.Mode, options.Rank, compander);
        }
        catch (ArgumentException ex)
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams, $"{moduleName}: {ex.Message}", ex);
        }
    }

    public void DescribePeft(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config["r"] = options.Rank;
        config["init_weights"] = options.Mode == BoneOptions.Bat ? JsonValue.Create("bat") : JsonValue.Create(true);
        config["miss_dropout"] = 0.0;
    }
}
