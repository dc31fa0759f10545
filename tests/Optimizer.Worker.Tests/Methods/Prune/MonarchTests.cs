using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Prune.Monarch;
using Optimizer.Domain.Models;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Prune.Monarch;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Modeling.Architectures.Monarch;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Prune;

/// <summary>ALGORITHMS.md Part C 2.6: the Monarch projection, the factored linear and the pipeline.</summary>
public sealed class MonarchTests
{
    [Theory]
    [InlineData(64, 64, 8)]
    [InlineData(128, 384, 4)]
    [InlineData(96, 32, 2)]
    public void Project_ReproducesARandomMonarchMatrix_To1e4(int rows, int columns, int blocks)
    {
        torch.manual_seed(rows + columns + blocks);
        using var blkdiag1 = torch.randn(blocks, blocks, columns / blocks);
        using var blkdiag2 = torch.randn(blocks, rows / blocks, blocks);
        using var monarch = MonarchProjection.Dense(blkdiag1, blkdiag2);

        var (first, second) = MonarchProjection.Project(monarch, blocks);
        using (first)
        using (second)
        {
            using var rebuilt = MonarchProjection.Dense(first, second);
            var error = (rebuilt - monarch).abs().max().item<float>();
            Assert.True(error < 1e-4, $"max error {error}");
        }
    }

    [Fact]
    public void Project_ErrorStaysBelowTheNorm_ForAGeneralMatrix()
    {
        torch.manual_seed(2);
        using var dense = torch.randn(64, 64);

        var (first, second) = MonarchProjection.Project(dense, 4);
        using (first)
        using (second)
        {
            using var rebuilt = MonarchProjection.Dense(first, second);
            Assert.True((rebuilt - dense).norm().item<float>() <= dense.norm().item<float>());
        }
    }

    [Fact]
    public void Forward_EqualsTheDenseProduct()
    {
        torch.manual_seed(4);
        using var linear = new MonarchLinear(48, 96, 4);
        using (torch.no_grad())
        {
            linear.Blkdiag1.copy_(torch.randn(4, 4, 12));
            linear.Blkdiag2.copy_(torch.randn(4, 24, 4));
        }
        using var input = torch.randn(2, 5, 48);

        using var factored = linear.forward(input);
        using var dense = MonarchProjection.Dense(linear.Blkdiag1, linear.Blkdiag2);
        using var expected = input.matmul(dense.mT);

        Assert.Equal(new long[] { 2, 5, 96 }, factored.shape);
        Assert.True((factored - expected).abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public async Task RunAsync_StoresFactors_ThatTheLlamaRunsFactored()
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        var outputDir = Path.Combine(work.Path, "output");
        Directory.CreateDirectory(outputDir);
        TinyLlama.Write(sourceDir, ScalarType.Float32);
        var context = new PipelineContext(new Job("t_test", "prune", "monarch", "{}"),
            [new SourceModel(new Model("t_test", "tiny"), sourceDir)], work.Path, outputDir, new RecordingProgress(), new NoModels(), NullLogger.Instance);

        var result = await new MonarchPipeline().RunAsync(context, new MonarchOptions { Nblocks = 4 }, CancellationToken.None);

        Assert.Equal("monarch", result.Output!.SparsityPattern);
        // MLP linears [128, 64] and [64, 128]: 4·(64 + 128) factor parameters instead of 8,192.
        Assert.Equal(1 - 4.0 * 192 / 8192, result.Output.Sparsity!.Value, 9);
        using var output = ModelFolder.Open(outputDir);
        Assert.False(output.ContainsTensor("model.layers.0.mlp.up_proj.weight"));
        Assert.True(output.ContainsTensor("model.layers.0.mlp.up_proj.blkdiag1"));
        Assert.True(output.ContainsTensor("model.layers.1.self_attn.q_proj.weight"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outputDir, "config.json")))!;
        Assert.Equal(6, config[MonarchConfig.Key]!["modules"]!.AsArray().Count);

        // The factored model equals a dense model holding the projected matrices.
        using var factored = LlamaForCausalLM.FromFolder(output);
        using var source = ModelFolder.Open(sourceDir);
        using var dense = LlamaForCausalLM.FromFolder(source);
        using (torch.no_grad())
        {
            foreach (var layer in Enumerable.Range(0, TinyLlama.Layers))
            {
                foreach (var (name, linear) in new[] { ("up_proj", dense.Model.Layers[layer].Mlp.UpProj), ("gate_proj", dense.Model.Layers[layer].Mlp.GateProj), ("down_proj", dense.Model.Layers[layer].Mlp.DownProj) })
                {
                    var prefix = $"model.layers.{layer}.mlp.{name}";
                    using var first = output.ReadTensor(prefix + ".blkdiag1");
                    using var second = output.ReadTensor(prefix + ".blkdiag2");
                    using var projected = MonarchProjection.Dense(first, second);
                    linear.weight!.copy_(projected);
                }
            }
        }
        using var ids = torch.tensor(new long[] { 1, 5, 9, 42, 7, 3 }, [1, 6]);
        using var expected = dense.forward(ids);
        using var actual = factored.forward(ids);
        Assert.True((actual - expected).abs().max().item<float>() < 1e-4);
        Assert.Contains(factored.named_parameters(), p => p.name == "model.layers.0.mlp.up_proj.blkdiag2");
    }

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) => throw new InvalidOperationException("not used");
    }
}
