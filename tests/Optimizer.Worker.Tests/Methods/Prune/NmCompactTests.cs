using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Prune.Magnitude;
using Optimizer.Domain.Models;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Prune;
using Optimizer.Worker.Methods.Prune.Compact;
using Optimizer.Worker.Methods.Prune.Magnitude;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Prune;

/// <summary>The compact N:M layout (docs/formats/n-m-sparse.md): encoding, decoding, writing and reading back.</summary>
public sealed class NmCompactTests
{
    [Theory]
    [InlineData(2, 4)]
    [InlineData(4, 8)]
    [InlineData(1, 16)]
    public void Decode_RoundTripsEncode_ForNmPrunedWeights(int n, int m)
    {
        torch.manual_seed(n * 10 + m);
        using var weight = torch.randn(8, 64);
        MagnitudePipeline.Prune(weight, new PruneSpec(1.0 - (double)n / m, n, m));
        // A group with fewer than N non-zeros is padded with stored zeros.
        weight[0, ..m] = torch.zeros(m);

        var (values, indices) = NmCompactCodec.Encode(weight, n, m);
        using var stored = values;
        using var decoded = NmCompactCodec.Decode(stored, indices, 64, n, m);

        Assert.Equal(new long[] { 8, 64 / m * n }, stored.shape);
        Assert.Equal(8 * NmIndexPackingRowBytes(64 / m * n, m), indices.Length);
        TensorAssert.Equal(weight, decoded);
    }

    [Fact]
    public void Encode_Throws_WhenAGroupHoldsMoreThanN()
    {
        using var weight = torch.ones(2, 8);

        Assert.Throws<ArgumentException>(() => NmCompactCodec.Encode(weight, 2, 4));
    }

    [Theory]
    [InlineData("compact")]
    [InlineData("both")]
    public async Task RunAsync_WritesCompactLayout_ThatReadsBackAsTheDenseOutput(string layout)
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        TinyLlama.Write(sourceDir);
        var denseDir = await RunAsync(work.Path, sourceDir, "dense", "dense");
        var compactDir = await RunAsync(work.Path, sourceDir, layout, "compact");

        using var dense = ModelFolder.Open(denseDir);
        using var compact = ModelFolder.Open(compactDir, [new NmCompactPackedWeightReader()]);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(compactDir, "config.json")))!["pruning_config"]!;
        Assert.Equal(layout, config["layout"]!.GetValue<string>());
        foreach (var layer in Enumerable.Range(0, TinyLlama.Layers))
        {
            foreach (var linear in TinyLlama.LinearNames)
            {
                var name = $"model.layers.{layer}.{linear}.weight";
                Assert.Equal(layout == "both", compact.ContainsTensor(name));
                Assert.True(compact.ContainsTensor(name + NmCompactCodec.ValuesSuffix));
                using var expected = dense.ReadTensor(name).to(ScalarType.Float32);
                // With "both" the dense tensor is read (source dtype); decode the compact tensors explicitly too.
                using var read = compact.ReadWeight(name);
                using var actual = read.to(ScalarType.Float32);
                TensorAssert.Equal(expected, actual);
                Assert.True(new NmCompactPackedWeightReader().TryRead(compact, name, out var decoded));
                using (decoded)
                {
                    TensorAssert.Equal(expected, decoded);
                }
            }
        }
        // Non-pruned tensors are untouched.
        using var embedding = compact.ReadTensor("model.embed_tokens.weight");
        Assert.Equal(new long[] { TinyLlama.Vocab, TinyLlama.Hidden }, embedding.shape);
    }

    private static async Task<string> RunAsync(string workDir, string sourceDir, string layout, string name)
    {
        var outputDir = Path.Combine(workDir, name);
        Directory.CreateDirectory(outputDir);
        var context = new PipelineContext(new Job("t_test", "prune", "magnitude", "{}"),
            [new SourceModel(new Model("t_test", "tiny"), sourceDir)], workDir, outputDir, new RecordingProgress(),
            new NoModels(), NullLogger.Instance);
        var result = await new MagnitudePipeline().RunAsync(context, new MagnitudeOptions { Pattern = "2:4", Layout = layout }, CancellationToken.None);
        Assert.Equal(0.5, result.Output!.Sparsity!.Value, 6);
        Assert.Equal("2:4", result.Output.SparsityPattern);
        return outputDir;
    }

    private static int NmIndexPackingRowBytes(int indicesPerRow, int m) =>
        Optimizer.Kernels.Codecs.NmIndexPacking.RowBytes(indicesPerRow, Optimizer.Kernels.Codecs.NmIndexPacking.IndexBits(m));

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) => throw new InvalidOperationException("not used");
    }
}
