using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.FineTune.Lora;
using Optimizer.Domain.Models;
using Optimizer.Domain.Storage;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.FineTune.Lora;
using Optimizer.Worker.Methods.FineTune.Shared;
using Optimizer.Worker.Tests.Support;
using TorchSharp;

namespace Optimizer.Worker.Tests.Methods.FineTune;

/// <summary>Crash → resume: a fine-tune killed after a checkpoint continues from it and ends where an uninterrupted run ends.</summary>
public sealed class FineTuneResumeTests
{
    private static readonly LoraOptions Options = new()
    {
        Steps = 6, BatchSize = 2, SeqLen = 16, CheckpointEvery = 3, LearningRate = 1e-2, WarmupSteps = 1, Rank = 2, Output = "adapter",
    };

    [Fact]
    public async Task ResumedRun_EndsWithSameAdapterAsUninterruptedRun_WhenCrashedAfterCheckpoint()
    {
        using var temp = new TempDirectory();
        var job = new Job("t_test", "finetune", "lora", "{}");
        var store = TestEnvironment.NewBlobStore();

        var crashing = new CrashingProgress("step 5/6");
        await Assert.ThrowsAsync<IOException>(() => RunAsync(temp, "first", job, store, crashing));
        var resumed = new RecordingProgress();
        await RunAsync(temp, "second", job, store, resumed);
        var reference = new RecordingProgress();
        await RunAsync(temp, "reference", new Job("t_test", "finetune", "lora", "{}"), TestEnvironment.NewBlobStore(), reference);

        Assert.Contains(resumed.Events, e => e.Message.Contains("resuming after step 3", StringComparison.Ordinal));
        Assert.Equal(3, resumed.Events.Count(e => e.Stage == "train" && e.Message.StartsWith("step", StringComparison.Ordinal)));
        var resumedAdapter = AdapterExport.ReadAdapter(temp.File("second/out"));
        var referenceAdapter = AdapterExport.ReadAdapter(temp.File("reference/out"));
        Assert.Equal(referenceAdapter.Keys.Order(), resumedAdapter.Keys.Order());
        foreach (var (name, tensor) in referenceAdapter)
        {
            Assert.True(tensor.allclose(resumedAdapter[name], rtol: 1e-5, atol: 1e-6), $"{name} differs after resume");
        }
    }

    private static async Task RunAsync(TempDirectory temp, string name, Job job, IArtifactStore store, IProgressReporter progress)
    {
        var work = temp.File(name);
        Directory.CreateDirectory(Path.Combine(work, "out"));
        var checkpoint = new JobCheckpoint(store, job, Path.Combine(work, "checkpoint"));
        var context = new PipelineContext(job, [new SourceModel(new Model("t_test", "fixture"), Path.Combine(TestEnvironment.FixtureDir, "model"))],
            work, Path.Combine(work, "out"), progress, new NoModels(), NullLogger.Instance, checkpoint);
        var text = string.Concat(Enumerable.Repeat("It is not down in any map; true places never are. ", 40));
        await new LoraPipeline(new FixedDatasetText(text), new LocalCheckpointModels(Path.Combine(work, "models")))
            .RunAsync(context, Options, CancellationToken.None);
    }

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) => throw new InvalidOperationException("not used");
    }
}
