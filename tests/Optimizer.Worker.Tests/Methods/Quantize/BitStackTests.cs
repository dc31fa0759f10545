using Optimizer.Domain.Formats.BitStack;
using Optimizer.Domain.Methods.Quantize.BitStack;
using Optimizer.Domain.Models;
using Optimizer.Worker.Methods.Quantize.BitStack;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Quantize;

/// <summary>BitStack invariants of ALGORITHMS.md 1.8 and loading to a budget.</summary>
public sealed class BitStackTests
{
    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    private static double ErrorSquared(float[] w, float[] r) => w.Select((v, i) => (double)(v - r[i]) * (v - r[i])).Sum();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Decompose_ErrorIsNonIncreasingInTheNumberOfBlocks(bool roundToHalf)
    {
        const int rows = 24, columns = 40;
        var w = Random(rows * columns, 5);
        var stack = BitStackDecomposition.Decompose(w, rows, columns, blocks: 8, rank: 2, roundToHalf);

        var previous = ErrorSquared(w, new float[w.Length]);
        Assert.Equal(previous, stack.SquaredErrors[0], previous * 1e-9);
        for (var n = 1; n <= 8; n++)
        {
            var error = ErrorSquared(w, stack.Reconstruct(n));
            Assert.True(error <= previous * (1 + 1e-6), $"{n} blocks: {error} > {previous}");
            Assert.Equal(stack.SquaredErrors[n], error, Math.Max(error, 1e-12) * 1e-3);
            previous = error;
        }
        Assert.True(previous < 0.5 * stack.SquaredErrors[0]);
    }

    [Fact]
    public void Decompose_ReproducesTheWeight_WithFullRank()
    {
        const int rows = 12, columns = 20;
        var w = Random(rows * columns, 8);
        var stack = BitStackDecomposition.Decompose(w, rows, columns, blocks: 3, rank: 12, roundToHalf: false);
        var restored = stack.Reconstruct(3);
        for (var i = 0; i < w.Length; i++)
        {
            Assert.Equal(w[i], restored[i], 1e-5f);
        }
    }

    [Fact]
    public void ManifestSelect_GrowsWithTheBudget_AndRefusesBelowTheMinimum()
    {
        var manifest = new BitStackManifest
        {
            Blocks = 3,
            Rank = 2,
            FixedBytes = 1000,
            Linears = [new BitStackLinear("a", 4, 4, 100), new BitStackLinear("b", 4, 4, 300)],
            Order = [1, 0, 0, 1],
        };
        var roundTripped = BitStackManifest.Parse(manifest.ToJson());
        Assert.Equal(manifest.Order, roundTripped.Order);
        Assert.Equal(1400, roundTripped.MinimumBytes);
        Assert.Equal(2200, roundTripped.FullBytes);

        Assert.Null(manifest.Select(1399 / BitStackManifest.BytesPerMb));
        Assert.Equal([1, 1], manifest.Select(1400 / BitStackManifest.BytesPerMb)!.BlocksPerLinear);
        Assert.Equal([1, 2], manifest.Select(1799 / BitStackManifest.BytesPerMb)!.BlocksPerLinear);
        // The walk stops at the first block that does not fit, keeping the importance order.
        Assert.Equal([2, 2], manifest.Select(1800 / BitStackManifest.BytesPerMb)!.BlocksPerLinear);
        Assert.Equal([3, 3], manifest.Select(null)!.BlocksPerLinear);
        Assert.Equal(2200, manifest.Select(null)!.SizeBytes);
    }

    [Fact]
    public async Task RunAsync_WritesOrderedBlocks_AndLoadsFewerBlocksUnderABudget()
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        var outputDir = Path.Combine(work.Path, "output");
        TinyLlama.Write(sourceDir, ScalarType.Float32);

        var result = await new BitStackPipeline().RunAsync(PipelineRun.Context(work.Path, sourceDir, outputDir, "bitstack"),
            new BitStackOptions { Blocks = 4, Rank = 2 }, CancellationToken.None);

        Assert.Equal(new QuantizationInfo("bitstack", 1, -1, "bitstack"), result.Output!.Quantization);
        var manifest = BitStackManifest.Parse(File.ReadAllText(Path.Combine(outputDir, BitStackManifest.FileName)));
        Assert.Equal(TinyLlama.Layers * TinyLlama.LinearNames.Length, manifest.Linears.Count);
        Assert.Equal(manifest.Linears.Count * 3, manifest.Order.Count);
        // Every linear gets block b + 1 only after every linear has block b.
        for (var level = 0; level < 3; level++)
        {
            Assert.Equal(manifest.Linears.Count, manifest.Order.Skip(level * manifest.Linears.Count).Take(manifest.Linears.Count).Distinct().Count());
        }
        var fileBytes = new FileInfo(Path.Combine(outputDir, ModelFolder.SingleFileName)).Length;
        Assert.InRange(manifest.FullBytes, fileBytes - 64 * 1024, fileBytes);

        var name = "model.layers.1.mlp.gate_proj.weight";
        using var source = ModelFolder.Open(sourceDir);
        using var w = source.ReadTensor(name);
        double ErrorAt(double? budgetMb)
        {
            using var output = ModelFolder.Open(outputDir, [new BitStackPackedWeightReader(budgetMb)]);
            using var r = output.ReadWeight(name);
            using var e = (w - r).square().sum();
            return e.item<float>();
        }
        var minimumMb = manifest.MinimumBytes / BitStackManifest.BytesPerMb;
        var full = ErrorAt(null);
        var minimum = ErrorAt(minimumMb);
        Assert.True(full < minimum, $"full stack {full} vs one block {minimum}");
        Assert.Throws<InvalidDataException>(() => ErrorAt(minimumMb * 0.99));
    }
}
