using Optimizer.Worker.Evaluation.Diagnostics;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Tests.Support;
using TorchSharp;

namespace Optimizer.Worker.Tests.Evaluation.Diagnostics;

public sealed class ReconstructionErrorTests
{
    private static LlamaForCausalLM Load(string dir)
    {
        using var folder = ModelFolder.Open(dir);
        return LlamaForCausalLM.FromFolder(folder);
    }

    private static long[][] Windows() =>
        [.. Enumerable.Range(0, 2).Select(w => Enumerable.Range(0, 16).Select(i => (long)((w * 31 + i * 7) % TinyLlama.Vocab)).ToArray())];

    [Fact]
    public void Measure_GivesZeroEverywhere_WhenModelsAreIdentical()
    {
        using var temp = new TempDirectory();
        TinyLlama.Write(temp.Path, TorchSharp.torch.ScalarType.Float32);
        using var baseline = Load(temp.Path);
        using var candidate = Load(temp.Path);

        var errors = ReconstructionError.Measure(baseline, candidate, Windows(), TestContext.Current.CancellationToken);

        Assert.Equal(TinyLlama.Layers, errors.Blocks.Count);
        Assert.All(errors.Blocks, e => Assert.Equal(0, e));
        Assert.All(errors.Modules, m => Assert.Equal(7, m.Count));
        Assert.All(errors.Modules.SelectMany(m => m.Values), e => Assert.Equal(0, e));
    }

    [Fact]
    public void Measure_LocatesTheBlockAndModule_ThatWasPerturbed()
    {
        using var temp = new TempDirectory();
        TinyLlama.Write(temp.Path, TorchSharp.torch.ScalarType.Float32);
        using var baseline = Load(temp.Path);
        using var candidate = Load(temp.Path);
        using (torch.no_grad())
        {
            var weight = candidate.Model.Layers[1].Mlp.UpProj.weight!;
            weight.mul_(1.3);
        }

        var errors = ReconstructionError.Measure(baseline, candidate, Windows(), TestContext.Current.CancellationToken);

        // Each block is fed the baseline's input, so block 0 is untouched; up_proj's output is scaled by 1.3 exactly.
        Assert.Equal(0, errors.Blocks[0]);
        Assert.True(errors.Blocks[1] > 0.01, $"block 1 error {errors.Blocks[1]}");
        Assert.Equal(0.3, errors.Modules[1]["up_proj"], 1e-4);
        Assert.All(errors.Modules[1].Where(m => m.Key != "up_proj"), m => Assert.Equal(0, m.Value));
    }
}
