using System.Diagnostics;
using System.Globalization;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.FineTune;
using Optimizer.Worker.Calibration;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Hosting;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Modeling.Architectures.Monarch;
using Optimizer.Worker.Modeling.Tokenization;
using TorchSharp;

namespace Optimizer.Worker.Methods.FineTune.Shared;

/// <summary>
/// The body every fine-tuning pipeline shares: load the Llama model and data, inject the method's adapters, train with
/// events and checkpoints (resuming from the last one after a crash), then write the adapter and/or merged model.
/// </summary>
public sealed class FineTuneRunner(IDatasetText datasets, ICheckpointModels checkpointModels)
{
    private const string StateFileName = "state.safetensors";

    public async Task<PipelineResult> RunAsync(PipelineContext context, FineTuneOptions options,
        Func<WeightCompander?, IAdapterFactory> factoryFor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(factoryFor);
        var job = context.Job;
        var method = $"finetune/{job.Method}";
        using var folder = ModelFiles.OpenSource(context.Source.LocalDir);
        if (MonarchConfig.From(folder.Config) is not null)
        {
            throw new JobFailedException(JobErrorCodes.InvalidModel, $"{method} needs dense projections; this model stores Monarch factors.");
        }
        var text = await datasets.LoadAsync(job.TenantId, options.DatasetId ?? job.CalibrationDatasetId ?? BuiltinDatasetSeeder.CalibrationId,
            cancellationToken);
        await context.Progress.ReportAsync("prepare", 0.01, "Tokenizing the training data", cancellationToken);
        var examples = await Task.Run(() => BuildExamples(context.Source.LocalDir, folder, text, options), cancellationToken);
        var totalSteps = options.Epochs is { } epochs
            ? Math.Max(1, (int)Math.Ceiling(epochs * examples.Count / options.BatchSize))
            : options.Steps;
        torch.manual_seed(options.Seed);
        using var adapted = AdaptedModel.Inject(CalibrationData.LoadModel(folder, method), options.TargetModules,
            factoryFor(options.WeightCompander ? new WeightCompander() : null));
        adapted.Model.to(ComputeDevice.Preferred);
        using var trainer = new FineTuneTrainer(adapted, examples, options, totalSteps);
        var resumedFrom = await TryResumeAsync(context.Checkpoint, trainer, options, cancellationToken);
        await context.Progress.EventAsync("info", "train",
            $"Training {adapted.TrainableCount:N0} parameters ({adapted.Adapters.Count} adapters) for {totalSteps} steps on {examples.Count} sequences of {examples.SeqLen} tokens"
            + (resumedFrom > 0 ? $", resuming after step {resumedFrom}." : "."),
            new { trainable_parameters = adapted.TrainableCount, total_steps = totalSteps, sequences = examples.Count, resumed_from_step = resumedFrom },
            cancellationToken);
        var clock = Stopwatch.StartNew();
        long tokens = 0;
        var eventEvery = Math.Max(1, totalSteps / 100);
        while (trainer.CompletedSteps < totalSteps)
        {
            var report = await Task.Run(() => trainer.Step(cancellationToken), cancellationToken);
            tokens += report.Tokens;
            var throughput = tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            await context.Progress.ReportAsync("train", 0.02 + 0.9 * report.Step / totalSteps,
                string.Create(CultureInfo.InvariantCulture, $"step {report.Step}/{totalSteps} loss {report.Loss:0.0000}"), cancellationToken);
            if (report.Step % eventEvery == 0 || report.Step == 1 || report.Step == totalSteps)
            {
                await context.Progress.EventAsync("info", "train",
                    string.Create(CultureInfo.InvariantCulture, $"step {report.Step}/{totalSteps} loss {report.Loss:0.0000} lr {report.LearningRate:0.###e+0} {throughput:0} tokens/s"),
                    new { step = report.Step, loss = report.Loss, lr = report.LearningRate, tokens_per_second = throughput }, cancellationToken);
            }
            if (options.CheckpointEvery > 0 && report.Step % options.CheckpointEvery == 0 && report.Step < totalSteps)
            {
                await CheckpointAsync(context, options, factoryFor, adapted, folder, trainer, cancellationToken);
            }
        }
        await context.Progress.ReportAsync("write", 0.93, "Writing the fine-tuned output", cancellationToken);
        var factory = factoryFor(null);
        AdapterExport.Write(adapted, factory, options, folder, context.Source.Model.Name, context.OutputDir, options.Output);
        var metrics = new Dictionary<string, object?>
        {
            ["trainable_parameters"] = adapted.TrainableCount,
            ["steps"] = totalSteps,
            ["final_loss"] = trainer.LastLoss,
            ["tokens_per_second"] = tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9),
            ["train_seconds"] = clock.Elapsed.TotalSeconds,
            ["resumed_from_step"] = resumedFrom,
        };
        return PipelineResult.ForModel(OutputInfo(context, adapted, options.Output), metrics);
    }

    /// <summary>The output's registry facts: the merged model, or for adapter-only outputs the adapter (<c>PeftAdapter</c>).</summary>
    public static OutputModelInfo OutputInfo(PipelineContext context, AdaptedModel adapted, string output)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(adapted);
        var name = context.Job.Name ?? $"{context.Source.Model.Name}-{context.Job.Method}";
        return output == FineTuneOptions.AdapterOutput
            ? new OutputModelInfo(name, "PeftAdapter", adapted.TrainableCount, "float32")
            : new OutputModelInfo(name, LlamaForCausalLM.Architecture, adapted.Model.ParameterCount - adapted.TrainableCount, "float32");
    }

    private static TrainingExamples BuildExamples(string sourceDir, ModelFolder folder, string text, FineTuneOptions options)
    {
        var config = LlamaConfig.FromHf(folder.Config);
        Microsoft.ML.Tokenizers.Tokenizer tokenizer;
        try
        {
            tokenizer = TokenizerLoader.Load(sourceDir);
        }
        catch (FileNotFoundException ex)
        {
            throw new JobFailedException(JobErrorCodes.InvalidModel, $"Fine-tuning needs the model's tokenizer: {ex.Message}", ex);
        }
        var seqLen = Math.Min(options.SeqLen, config.MaxPositionEmbeddings);
        return TrainingExamples.Build(text, tokenizer, seqLen, config.EosTokenId ?? 0);
    }

    /// <summary>Publishes the current model as a checkpoint model, then saves the training state (the resume point) under the job.</summary>
    private async Task CheckpointAsync(PipelineContext context, FineTuneOptions options, Func<WeightCompander?, IAdapterFactory> factoryFor,
        AdaptedModel adapted, ModelFolder folder, FineTuneTrainer trainer, CancellationToken cancellationToken)
    {
        var step = trainer.CompletedSteps;
        var dir = Path.Combine(context.WorkDir, "checkpoints", $"step{step}");
        AdapterExport.Write(adapted, factoryFor(null), options, folder, context.Source.Model.Name, dir, FineTuneOptions.BothOutputs);
        var info = OutputInfo(context, adapted, FineTuneOptions.BothOutputs) with
        {
            Name = $"{context.Job.Name ?? context.Source.Model.Name + "-" + context.Job.Method}-step{step}",
        };
        var modelId = await checkpointModels.PublishAsync(context.Job, step, dir, info, [context.Source.Model.Id], cancellationToken);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        if (context.Checkpoint is { } checkpoint)
        {
            var writer = new SafetensorsWriter();
            foreach (var (name, value) in trainer.State())
            {
                writer.Add(name, value);
            }
            writer.Metadata["step"] = step.ToString(CultureInfo.InvariantCulture);
            writer.Metadata["loss"] = trainer.LastLoss.ToString("R", CultureInfo.InvariantCulture);
            var path = Path.Combine(checkpoint.ScratchFor(StateKey(step)), StateFileName);
            writer.Save(path);
            await checkpoint.SaveAsync(StateKey(step), [path], cancellationToken);
        }
        await context.Progress.EventAsync("info", CheckpointModels.EventStage, $"Checkpoint at step {step}: model {modelId}.",
            new { step, metrics = new { loss = trainer.LastLoss }, model_id = modelId }, cancellationToken);
    }

    /// <summary>Restores the latest complete training state an earlier attempt saved; returns its step (0 when none).</summary>
    private static async Task<int> TryResumeAsync(JobCheckpoint? checkpoint, FineTuneTrainer trainer, FineTuneOptions options,
        CancellationToken cancellationToken)
    {
        if (checkpoint is null || options.CheckpointEvery <= 0)
        {
            return 0;
        }
        for (var step = trainer.TotalSteps - 1 - ((trainer.TotalSteps - 1) % options.CheckpointEvery); step > 0; step -= options.CheckpointEvery)
        {
            var dir = await checkpoint.TryRestoreAsync(StateKey(step), cancellationToken);
            if (dir is null)
            {
                continue;
            }
            using var state = SafetensorsFile.Open(Path.Combine(dir, StateFileName));
            var loss = double.Parse(state.Metadata["loss"], CultureInfo.InvariantCulture);
            trainer.Restore(state.ReadTensor, step, loss);
            return step;
        }
        return 0;
    }

    private static string StateKey(int step) => $"finetune-step-{step:D8}";
}
