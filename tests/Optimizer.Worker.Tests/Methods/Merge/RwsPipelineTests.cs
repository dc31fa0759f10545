using System.Text.Json.Nodes;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Merge.Rws;
using Optimizer.Worker.Methods.Merge.Rws;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Methods.Merge;

/// <summary>ALGORITHMS.md 3.7: λ = 1 reproduces the robust model on the patched layers; patch then unpatch is the identity.</summary>
public sealed class RwsPipelineTests : IDisposable
{
    private readonly TempDirectory _work = new();
    private readonly string _clean;
    private readonly string _robust;
    private readonly string _robust2;

    public RwsPipelineTests()
    {
        _clean = Path.Combine(_work.Path, "clean");
        _robust = Path.Combine(_work.Path, "robust");
        _robust2 = Path.Combine(_work.Path, "robust2");
        TinyLlama.Write(_clean, seed: 3);
        MergePipelineTests.WritePerturbed(_clean, _robust, seed: 21);
        MergePipelineTests.WritePerturbed(_clean, _robust2, seed: 22);
    }

    [Fact]
    public async Task Extract_StoresOnlyTheChosenLayers_AsAFloat32Signature()
    {
        var signature = await ExtractAsync(_robust, "sig");

        using var folder = ModelFolder.Open(signature);
        Assert.All(folder.TensorNames, n => Assert.StartsWith("model.layers.0.", n));
        Assert.Equal(9, folder.TensorNames.Count);
        Assert.All(folder.TensorNames, n => Assert.Equal(SafetensorsDtype.F32, folder.GetEntry(n).Dtype));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(signature, "config.json")))![RwsSignature.ConfigKey]!;
        Assert.Equal(MergeRun.IdOf(_robust), config["robust_model_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Apply_ReproducesTheRobustModelOnPatchedLayers_WhenLambdaIsOne()
    {
        var signature = await ExtractAsync(_robust, "sig");

        var patched = await ApplyAsync([(signature, 1.0)]);

        using var output = ModelFolder.Open(patched);
        using var robust = ModelFolder.Open(_robust);
        using var clean = ModelFolder.Open(_clean);
        foreach (var name in output.TensorNames)
        {
            using var actual = output.ReadTensor(name);
            using var expected = (name.StartsWith("model.layers.0.", StringComparison.Ordinal) ? robust : clean).ReadTensor(name);
            Assert.True(MergeRun.Same(actual, expected), $"tensor '{name}' is neither the robust (layer 0) nor the clean weight");
        }
    }

    [Fact]
    public async Task Apply_ThenRemove_IsTheIdentity()
    {
        var signature = await ExtractAsync(_robust, "sig");

        var patched = await ApplyAsync([(signature, 1.0)]);
        var removed = await ApplyAsync([(signature, -1.0)], patched, "unpatched");
        var inOneJob = await ApplyAsync([(signature, 1.0), (signature, -1.0)], name: "cancelled");

        using var clean = ModelFolder.Open(_clean);
        using var unpatched = ModelFolder.Open(removed);
        using var cancelled = ModelFolder.Open(inOneJob);
        MergePipelineTests.AssertSameWeights(clean, unpatched);
        MergePipelineTests.AssertSameWeights(clean, cancelled);
    }

    [Fact]
    public async Task Apply_ComposesSignatures_AndRemovingThemRestoresTheCleanModelWithinRounding()
    {
        var signature = await ExtractAsync(_robust, "sig");
        var other = await ExtractAsync(_robust2, "sig2");

        var both = await ApplyAsync([(signature, 1.0), (other, 0.5)]);
        var removed = await ApplyAsync([(signature, -1.0), (other, -0.5)], both, "unpatched");

        using var clean = ModelFolder.Open(_clean);
        using var composed = ModelFolder.Open(both);
        using var unpatched = ModelFolder.Open(removed);
        const string Name = "model.layers.0.mlp.up_proj.weight";
        using var original = clean.ReadTensor(Name).to_type(TorchSharp.torch.ScalarType.Float32);
        using var patchedWeight = composed.ReadTensor(Name).to_type(TorchSharp.torch.ScalarType.Float32);
        using var restored = unpatched.ReadTensor(Name).to_type(TorchSharp.torch.ScalarType.Float32);
        using var first = ModelFolder.Open(signature);
        using var second = ModelFolder.Open(other);
        using var expected = original + first.ReadTensor(Name) + second.ReadTensor(Name) * 0.5f;
        // The composed patch is stored in float16: each step rounds once (half an ulp, under 1e-3 at these magnitudes).
        Assert.True(patchedWeight.allclose(expected, rtol: 0, atol: 1e-3), "composition is not clean + s1 + 0.5 s2");
        Assert.False(patchedWeight.allclose(original, rtol: 0, atol: 1e-3), "composing two signatures changed nothing");
        Assert.True(restored.allclose(original, rtol: 0, atol: 1e-3), "removing the signatures did not restore the clean weights");
    }

    private async Task<string> ExtractAsync(string robust, string name)
    {
        var context = MergeRun.Context(_work.Path, "rws", [(robust, 1.0)], _clean);
        await new RwsPipeline().RunAsync(context, new RwsOptions { Mode = RwsOptions.ExtractMode, Layers = [0] }, CancellationToken.None);
        return Rename(context.OutputDir, name);
    }

    private async Task<string> ApplyAsync(IReadOnlyList<(string Dir, double Weight)> signatures, string? onto = null, string name = "patched")
    {
        var context = MergeRun.Context(_work.Path, "rws", signatures, onto ?? _clean);
        await new RwsPipeline().RunAsync(context, new RwsOptions { Layers = [0] }, CancellationToken.None);
        return Rename(context.OutputDir, name);
    }

    /// <summary>Gives an output folder a stable name: the test context uses folder names as model ids.</summary>
    private string Rename(string dir, string name)
    {
        var target = Path.Combine(_work.Path, name);
        Directory.Move(dir, target);
        return target;
    }

    public void Dispose() => _work.Dispose();
}
