using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.FineTune;
using Optimizer.Domain.Methods.FineTune.Bone;
using Optimizer.Domain.Methods.FineTune.Lora;
using Optimizer.Domain.Methods.FineTune.Pissa;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.FineTune.Bone;
using Optimizer.Worker.Methods.FineTune.Lora;
using Optimizer.Worker.Methods.FineTune.Pissa;
using Optimizer.Worker.Methods.FineTune.Shared;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.FineTune;

/// <summary>Short fine-tunes of the trained fixture: outputs, PEFT layout, checkpoints, and that training lowers the loss.</summary>
public sealed class FineTunePipelineTests
{
    private const string Text = "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, " +
        "and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.";

    [Fact]
    public async Task LoraPipeline_WritesPeftAdapterMatchingMergedModel_AndCheckpoints()
    {
        using var temp = new TempDirectory();
        var options = new LoraOptions { Steps = 4, BatchSize = 2, SeqLen = 16, CheckpointEvery = 2, LearningRate = 1e-2, WarmupSteps = 1, Rank = 4, Alpha = 8 };
        var progress = new RecordingProgress();
        var context = Context(temp, "lora", progress);
        var checkpoints = new LocalCheckpointModels(temp.File("checkpoints"));
        var result = await new LoraPipeline(new FixedDatasetText(string.Concat(Enumerable.Repeat(Text + "\n", 20))), checkpoints)
            .RunAsync(context, options, CancellationToken.None);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(context.OutputDir, AdapterExport.AdapterConfigFileName)))!;
        Assert.Equal("LORA", config["peft_type"]!.GetValue<string>());
        Assert.Equal(4, config["r"]!.GetValue<int>());
        Assert.True(File.Exists(Path.Combine(context.OutputDir, "vocab.json")), "tokenizer files travel with the output");
        Assert.True(Directory.Exists(temp.File("checkpoints/step2")), "a checkpoint model at step 2");
        Assert.Contains(progress.Events, e => e.Stage == CheckpointModels.EventStage);
        Assert.Equal(4L * (128 + 128 + 128 + 64) * 4, (long)result.Metrics["trainable_parameters"]!);

        // The merged weight equals base + (alpha/r)·B·A read back from the PEFT file.
        const string module = "model.layers.1.self_attn.v_proj";
        using var scope = torch.NewDisposeScope();
        var adapter = AdapterExport.ReadAdapter(context.OutputDir);
        var a = adapter[AdapterExport.PeftKeyPrefix + module + ".lora_A.weight"];
        var b = adapter[AdapterExport.PeftKeyPrefix + module + ".lora_B.weight"];
        Assert.True(b.abs().max().item<float>() > 0, "training moved B away from zero");
        using var source = ModelFolder.Open(Path.Combine(TestEnvironment.FixtureDir, "model"));
        using var merged = ModelFolder.Open(context.OutputDir);
        var expected = source.ReadWeight(module + ".weight").to(ScalarType.Float32) + b.matmul(a) * 2.0;
        Assert.True(merged.ReadWeight(module + ".weight").allclose(expected, atol: 1e-6), "merged weight = W + s·B·A exactly");
        Assert.Equal(source.TensorNames, merged.TensorNames);
    }

    [Theory]
    [InlineData("lora")]
    [InlineData("pissa")]
    [InlineData("bone")]
    public async Task Pipeline_LowersTrainingLoss_WhenRepeatingOneText(string method)
    {
        using var temp = new TempDirectory();
        var progress = new RecordingProgress();
        var context = Context(temp, method, progress);
        var datasets = new FixedDatasetText(string.Concat(Enumerable.Repeat(Text + "\n", 20)));
        var checkpoints = new LocalCheckpointModels(temp.File("checkpoints"));
        var common = new LoraOptions { Steps = 8, BatchSize = 2, SeqLen = 16, CheckpointEvery = 0, LearningRate = 5e-3, WarmupSteps = 1, TargetModules = ["q_proj", "v_proj", "up_proj"], Output = FineTuneOptions.MergedOutput };
        var result = method switch
        {
            "lora" => await new LoraPipeline(datasets, checkpoints).RunAsync(context, common, CancellationToken.None),
            "pissa" => await new PissaPipeline(datasets, checkpoints).RunAsync(context,
                new PissaOptions { Steps = 8, BatchSize = 2, SeqLen = 16, CheckpointEvery = 0, LearningRate = 5e-3, WarmupSteps = 1, TargetModules = common.TargetModules, Output = FineTuneOptions.MergedOutput }, CancellationToken.None),
            _ => await new BonePipeline(datasets, checkpoints).RunAsync(context,
                new BoneOptions { Steps = 8, BatchSize = 2, SeqLen = 16, CheckpointEvery = 0, LearningRate = 5e-3, WarmupSteps = 1, Rank = 16, Mode = BoneOptions.Bat, TargetModules = common.TargetModules, Output = FineTuneOptions.MergedOutput, Optimizer = FineTuneOptions.AdamP }, CancellationToken.None),
        };
        Assert.Equal(8, progress.Events.Count(e => e.Stage == "train" && e.Message.StartsWith("step", StringComparison.Ordinal)));
        var before = TrainingPerplexity(Path.Combine(TestEnvironment.FixtureDir, "model"));
        var after = TrainingPerplexity(context.OutputDir);
        Assert.True(after < before * 0.9, $"{method}: perplexity on the training text {before:0.0} → {after:0.0} should fall");
        Assert.False(File.Exists(Path.Combine(context.OutputDir, AdapterExport.AdapterConfigFileName)), "output merged writes no adapter");
        Assert.Equal("LlamaForCausalLM", result.Output!.Architecture);
    }

    [Fact]
    public void TrainingExamples_PutLossOnCompletionOnly_WhenPromptCompletionPairs()
    {
        var tokenizer = Optimizer.Worker.Modeling.Tokenization.TokenizerLoader.Load(Path.Combine(TestEnvironment.FixtureDir, "model"));
        var jsonl = "{\"prompt\": \"Question: who hunts the whale?\", \"completion\": \" Ahab\"}\n{\"prompt\": \"Name the ship:\", \"completion\": \" Pequod\"}\n";
        var examples = TrainingExamples.Build(jsonl, tokenizer, 32, 50256);
        Assert.Equal(2, examples.Count);
        var prompt = tokenizer.EncodeToIds("Question: who hunts the whale?").Count;
        var completion = tokenizer.EncodeToIds(" Ahab").Select(i => (long)i).Append(50256).ToList();
        var target = examples.Targets[0];
        Assert.All(target.Take(prompt - 1), t => Assert.Equal(TrainingExamples.IgnoreIndex, t));
        Assert.Equal(completion, target.Skip(prompt - 1).Take(completion.Count));
        Assert.All(target.Skip(prompt - 1 + completion.Count), t => Assert.Equal(TrainingExamples.IgnoreIndex, t));
    }

    private static double TrainingPerplexity(string modelDir)
    {
        using var folder = ModelFolder.Open(modelDir);
        using var model = Optimizer.Worker.Modeling.Architectures.Llama.LlamaForCausalLM.FromFolder(folder);
        var tokens = Optimizer.Worker.Modeling.Tokenization.TokenizerLoader.Load(modelDir).EncodeToIds(string.Concat(Enumerable.Repeat(Text + "\n", 4)));
        return Optimizer.Worker.Evaluation.LanguageModelMetrics.Perplexity(model, tokens, 16).Perplexity;
    }

    private static PipelineContext Context(TempDirectory temp, string method, RecordingProgress progress)
    {
        var context = PipelineRun.Context(temp.File("work"), Path.Combine(TestEnvironment.FixtureDir, "model"), temp.File("out"), method, progress);
        Directory.CreateDirectory(context.WorkDir);
        return context;
    }
}
