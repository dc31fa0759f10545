using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.Merge.Dare;
using Optimizer.Domain.Methods.Merge.Linear;
using Optimizer.Domain.Methods.Merge.Mwa;
using Optimizer.Domain.Methods.Merge.Slerp;
using Optimizer.Domain.Methods.Merge.TaskArithmetic;
using Optimizer.Domain.Methods.Merge.Ties;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Merge.Dare;
using Optimizer.Worker.Methods.Merge.Linear;
using Optimizer.Worker.Methods.Merge.Mwa;
using Optimizer.Worker.Methods.Merge.Shared;
using Optimizer.Worker.Methods.Merge.Slerp;
using Optimizer.Worker.Methods.Merge.TaskArithmetic;
using Optimizer.Worker.Methods.Merge.Ties;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Merge;

/// <summary>The merge pipelines end to end on tiny Llama folders: identities, determinism and the shape check.</summary>
public sealed class MergePipelineTests : IDisposable
{
    private readonly TempDirectory _work = new();
    private readonly string _base;
    private readonly string _tuneA;
    private readonly string _tuneB;

    public MergePipelineTests()
    {
        _base = Path.Combine(_work.Path, "base");
        _tuneA = Path.Combine(_work.Path, "tune_a");
        _tuneB = Path.Combine(_work.Path, "tune_b");
        TinyLlama.Write(_base, seed: 7);
        WritePerturbed(_base, _tuneA, seed: 11);
        WritePerturbed(_base, _tuneB, seed: 12);
    }

    [Fact]
    public async Task TaskArithmetic_ReproducesTheFineTune_WhenOneTaskIsAddedWithLambdaOne()
    {
        var context = MergeRun.Context(_work.Path, "task_arithmetic", [(_tuneA, 1.0)], _base);

        var result = await new TaskArithmeticPipeline().RunAsync(context, new TaskArithmeticOptions(), CancellationToken.None);

        Assert.Equal("LlamaForCausalLM", result.Output!.Architecture);
        using var output = ModelFolder.Open(context.OutputDir);
        using var tune = ModelFolder.Open(_tuneA);
        AssertSameWeights(tune, output);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(context.OutputDir, "config.json")))!;
        Assert.Equal("task_arithmetic", config["merge_config"]!["method"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(context.OutputDir, "tokenizer_config.json")));
    }

    [Fact]
    public async Task Linear_ReturnsTheModel_WhenEqualWeightsAverageTheSameModelTwice()
    {
        var context = MergeRun.Context(_work.Path, "linear", [(_tuneA, 1.0), (_tuneA, 1.0)]);

        await new LinearMergePipeline().RunAsync(context, new LinearMergeOptions(), CancellationToken.None);

        using var output = ModelFolder.Open(context.OutputDir);
        using var tune = ModelFolder.Open(_tuneA);
        AssertSameWeights(tune, output);
    }

    [Fact]
    public async Task Slerp_ReturnsTheFirstModel_WhenTIsZero()
    {
        var context = MergeRun.Context(_work.Path, "slerp", [(_tuneA, 1.0), (_tuneB, 1.0)]);

        await new SlerpPipeline().RunAsync(context, new SlerpOptions { T = 0 }, CancellationToken.None);

        using var output = ModelFolder.Open(context.OutputDir);
        using var tune = ModelFolder.Open(_tuneA);
        AssertSameWeights(tune, output);
    }

    [Fact]
    public async Task Ties_MovesEveryMergedWeightTowardsTheTasks_AndKeepsTheBaseDtype()
    {
        var context = MergeRun.Context(_work.Path, "ties", [(_tuneA, 1.0), (_tuneB, 1.0)], _base);

        var result = await new TiesPipeline().RunAsync(context, new TiesOptions { Density = 0.5 }, CancellationToken.None);

        Assert.Equal(0.5, result.Metrics["density"]);
        using var output = ModelFolder.Open(context.OutputDir);
        using var baseFolder = ModelFolder.Open(_base);
        const string Name = "model.layers.1.mlp.down_proj.weight";
        Assert.Equal(baseFolder.GetEntry(Name).Dtype, output.GetEntry(Name).Dtype);
        using var scope = torch.NewDisposeScope();
        var delta = output.ReadTensor(Name).to_type(ScalarType.Float32) - baseFolder.ReadTensor(Name).to_type(ScalarType.Float32);
        var changed = delta.ne(0).to_type(ScalarType.Float32).mean().item<float>();
        // Each task keeps half its entries; the union of two random halves is about three quarters.
        Assert.InRange(changed, 0.6f, 0.9f);
    }

    [Fact]
    public async Task DareTies_IsReproducibleForOneSeed_AndDiffersForAnother()
    {
        async Task<byte[]> RunAsync(long seed)
        {
            var context = MergeRun.Context(_work.Path, "dare_ties", [(_tuneA, 1.0), (_tuneB, 0.5)], _base);
            await new DareTiesPipeline().RunAsync(context, new DareTiesOptions { Density = 0.3, Seed = seed }, CancellationToken.None);
            return await File.ReadAllBytesAsync(Path.Combine(context.OutputDir, ModelFolder.SingleFileName));
        }

        var first = await RunAsync(5);
        var again = await RunAsync(5);
        var other = await RunAsync(6);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task Mwa_EqualsTheUniformAverage_WhenTheLossesAreEqual()
    {
        var mwa = MergeRun.Context(_work.Path, "mwa", [], extra: [_tuneA, _tuneB]);
        var options = new MwaOptions
        {
            Checkpoints = [new(MergeRun.IdOf(_tuneA), 100, 2.0), new(MergeRun.IdOf(_tuneB), 200, 2.0)],
        };
        var linear = MergeRun.Context(_work.Path, "linear", [(_tuneA, 1.0), (_tuneB, 1.0)]);

        var result = await new MwaPipeline().RunAsync(mwa, options, CancellationToken.None);
        await new LinearMergePipeline().RunAsync(linear, new LinearMergeOptions(), CancellationToken.None);

        Assert.Equal([0.5, 0.5], (double[])result.Metrics["mwa_weights"]!);
        using var fromMwa = ModelFolder.Open(mwa.OutputDir);
        using var fromLinear = ModelFolder.Open(linear.OutputDir);
        AssertSameWeights(fromLinear, fromMwa);
    }

    [Fact]
    public async Task Merge_FailsNamingTheFirstMismatchingTensor_WhenShapesDiffer()
    {
        var small = Path.Combine(_work.Path, "small_vocab");
        TinyLlama.Write(small, vocab: 80);
        var context = MergeRun.Context(_work.Path, "ties", [(_tuneA, 1.0), (small, 1.0)], _base);

        var failure = await Assert.ThrowsAsync<JobFailedException>(() =>
            new TiesPipeline().RunAsync(context, new TiesOptions(), CancellationToken.None));

        Assert.Equal(MergeStream.IncompatibleModels, failure.Code);
        Assert.Contains("models[1]", failure.Message);
        Assert.Contains("'lm_head.weight'", failure.Message);
        Assert.Empty(Directory.GetFiles(context.OutputDir));
    }

    /// <summary>A "fine-tune" of <paramref name="source"/>: the same folder with small seeded noise on every weight.</summary>
    internal static void WritePerturbed(string source, string target, int seed)
    {
        Directory.CreateDirectory(target);
        using var folder = ModelFolder.Open(source);
        var generator = new torch.Generator((ulong)seed);
        var writer = new SafetensorsWriter();
        foreach (var name in folder.TensorNames)
        {
            var entry = folder.GetEntry(name);
            writer.Add(name, entry.Dtype, entry.Shape, () =>
            {
                using var scope = torch.NewDisposeScope();
                var weight = folder.ReadTensor(name).to_type(ScalarType.Float32);
                var noisy = weight + torch.randn(weight.shape, generator: generator) * 0.02f;
                return noisy.to_type(entry.Dtype.ToTorch()).MoveToOuterDisposeScope();
            });
        }
        writer.Save(Path.Combine(target, ModelFolder.SingleFileName));
        foreach (var file in Directory.GetFiles(source).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    internal static void AssertSameWeights(ModelFolder expected, ModelFolder actual)
    {
        Assert.Equal(expected.TensorNames, actual.TensorNames);
        foreach (var name in expected.TensorNames)
        {
            using var a = expected.ReadTensor(name);
            using var b = actual.ReadTensor(name);
            Assert.True(MergeRun.Same(a, b), $"tensor '{name}' differs");
        }
    }

    public void Dispose() => _work.Dispose();
}
