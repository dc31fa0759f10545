using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Prune.Magnitude;
using Optimizer.Domain.Models;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Prune.Magnitude;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Prune;

/// <summary><c>allocation: farms</c> through a prune pipeline on a tiny Llama.</summary>
public sealed class FarmsPipelineTests
{
    [Fact]
    public async Task RunAsync_PrunesEachLayerAtItsAllocatedSparsity_AndHitsTheTargetOverall()
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        var outputDir = Path.Combine(work.Path, "output");
        Directory.CreateDirectory(outputDir);
        TinyLlama.Write(sourceDir, ScalarType.Float32);
        var progress = new RecordingProgress();
        var context = new PipelineContext(new Job("t_test", "prune", "magnitude", "{}"),
            [new SourceModel(new Model("t_test", "tiny"), sourceDir)], work.Path, outputDir, progress, new NoModels(), NullLogger.Instance);

        var result = await new MagnitudePipeline().RunAsync(context, new MagnitudeOptions { Sparsity = 0.6, Allocation = "farms" }, CancellationToken.None);

        Assert.InRange(result.Output!.Sparsity!.Value, 0.595, 0.605);
        Assert.Equal("farms", result.Metrics["allocation"]);
        Assert.Contains(progress.Events, e => e.Stage == "allocate");
        var pruning = JsonNode.Parse(File.ReadAllText(Path.Combine(outputDir, "config.json")))!["pruning_config"]!;
        var layers = pruning["layer_sparsity"]!.AsObject();
        Assert.Equal(TinyLlama.Layers * TinyLlama.LinearNames.Length, layers.Count);
        Assert.True(layers.Select(l => l.Value!.GetValue<double>()).Distinct().Count() > 1, "FARMS gave every layer the same sparsity");
        using var output = ModelFolder.Open(outputDir);
        foreach (var (name, sparsity) in layers)
        {
            using var weight = output.ReadTensor(name);
            using var zeros = weight.eq(0).sum();
            // Per tensor: exactly ⌊n·s⌋ zeros (magnitude's comparison group is the whole linear).
            Assert.Equal((long)Math.Floor(weight.numel() * sparsity!.GetValue<double>()), zeros.item<long>(), 1L);
        }
    }

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) => throw new InvalidOperationException("not used");
    }
}
