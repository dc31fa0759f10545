using Optimizer.Domain.Methods.FineTune.Bone;
using Optimizer.Worker.Methods.FineTune.Bone;
using Optimizer.Worker.Methods.FineTune.Lora;
using Optimizer.Worker.Methods.FineTune.Pissa;
using Optimizer.Worker.Methods.FineTune.Shared;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.FineTune;

/// <summary>ALGORITHMS.md Part C 4.1–4.3 invariants: no-op at init, merged forward = unmerged forward, merge/unmerge round trips.</summary>
public sealed class AdapterInvariantTests
{
    private const int In = 16;
    private const int Out = 8;

    public static TheoryData<string> Methods => ["lora", "rslora", "pissa", "bone-balance", "bone-bat", "lora-compander", "bone-bat-compander"];

    [Theory]
    [MemberData(nameof(Methods))]
    public void Forward_EqualsBaseLinear_AtInit(string method)
    {
        using var scope = torch.NewDisposeScope();
        var baseLayer = RandomLinear(1);
        var expected = baseLayer.weight!.detach().clone();
        var input = torch.randn(3, 5, In, generator: new Generator(2));
        using var reference = input.matmul(expected.t());
        var adapter = Create(method, baseLayer);
        adapter.eval();
        using var output = adapter.forward(input);
        Assert.True(output.allclose(reference, rtol: 1e-5, atol: 1e-5), $"{method} changes the output at init");
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void MergedForward_EqualsUnmergedForward_WhenAdapterTrained(string method)
    {
        using var scope = torch.NewDisposeScope();
        var adapter = Create(method, RandomLinear(3));
        Perturb(adapter, 4);
        adapter.eval();
        var input = torch.randn(2, 7, In, generator: new Generator(5));
        using var unmerged = adapter.forward(input);
        using var baseOutput = adapter.BaseLayer.forward(input);
        Assert.False(unmerged.allclose(baseOutput, rtol: 1e-4, atol: 1e-4), "the perturbed adapter should change the output");
        adapter.Merge();
        using var merged = adapter.forward(input);
        Assert.True(merged.allclose(unmerged, rtol: 1e-4, atol: 1e-5), $"{method}: merged forward differs from unmerged");
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Unmerge_RestoresBaseWeight_AfterMerge(string method)
    {
        using var scope = torch.NewDisposeScope();
        var adapter = Create(method, RandomLinear(6));
        Perturb(adapter, 7);
        var before = adapter.BaseWeight.detach().clone();
        adapter.Merge();
        Assert.False(adapter.BaseWeight.allclose(before, atol: 1e-4), "merging a trained adapter must change the weight");
        adapter.Unmerge();
        Assert.True(adapter.BaseWeight.allclose(before, rtol: 0, atol: 1e-5), $"{method}: merge then unmerge does not round-trip to 1e-5");
    }

    [Fact]
    public void PissaInit_SplitsWeightIntoResidualAndBestRankR_WhenCreated()
    {
        using var scope = torch.NewDisposeScope();
        var baseLayer = RandomLinear(8);
        var original = baseLayer.weight!.detach().clone();
        const double scaling = 2.0;
        var adapter = PissaLinear.Create(baseLayer, rank: 3, scaling, dropout: 0, niter: 0, compander: null);
        var principal = adapter.B.matmul(adapter.A) * scaling;
        Assert.True((adapter.BaseWeight + principal).allclose(original, atol: 1e-5), "W_res + s·B·A must equal W");
        var (u, s, vh) = torch.linalg.svd(original, fullMatrices: false);
        var best = u.narrow(1, 0, 3).matmul(torch.diag(s.narrow(0, 0, 3))).matmul(vh.narrow(0, 0, 3));
        Assert.True(principal.allclose(best, atol: 1e-4), "s·B·A must be the best rank-r approximation of W");
    }

    [Fact]
    public void PissaPeftExport_ReproducesMergedWeight_WhenAppliedToOriginalWeight()
    {
        using var scope = torch.NewDisposeScope();
        var baseLayer = RandomLinear(9);
        var original = baseLayer.weight!.detach().clone();
        const double scaling = 0.5;
        var adapter = PissaLinear.Create(baseLayer, rank: 2, scaling, dropout: 0, niter: 0, compander: null);
        Perturb(adapter, 10);
        var tensors = adapter.PeftTensors().ToDictionary(t => t.Name, t => t.Value);
        Assert.Equal([4, In], tensors["lora_A.weight"].shape);
        // The exported LoRA has rank 2r and alpha 2·alpha: the same scaling.
        var exported = original + tensors["lora_B.weight"].matmul(tensors["lora_A.weight"]) * scaling;
        Assert.True(exported.allclose(adapter.MergeWeight(adapter.BaseWeight), atol: 1e-5), "the converted LoRA must reproduce the trained model");
    }

    [Fact]
    public void BoneBalanceMerge_AddsBlockTransposeToEveryChunk_WhenInNotMultipleOfR()
    {
        using var scope = torch.NewDisposeScope();
        var baseLayer = nn.Linear(10, Out, hasBias: false);
        var adapter = new BoneLinear(baseLayer, BoneOptions.Balance, rank: 4, compander: null);
        Perturb(adapter, 11);
        var block = adapter.Block;
        var delta = adapter.MergeWeight(adapter.BaseWeight) - adapter.BaseWeight;
        for (var column = 0; column < 10; column++)
        {
            Assert.True(delta.select(1, column).allclose(block.select(0, column % 4), atol: 1e-6), $"column {column} of ΔW must be row {column % 4} of B");
        }
        var input = torch.randn(3, 10, generator: new Generator(12));
        Assert.True(adapter.forward(input).allclose(input.matmul(adapter.MergeWeight(adapter.BaseWeight).t()), atol: 1e-5),
            "the padded chunk-sum forward must equal the merged weight's forward");
    }

    internal static AdapterLinear Create(string method, Linear baseLayer) => method switch
    {
        "lora" => new LoraLinear(baseLayer, 4, LoraLinear.ScalingFor(8, 4, false), 0, null),
        "rslora" => new LoraLinear(baseLayer, 4, LoraLinear.ScalingFor(8, 4, true), 0, null),
        "lora-compander" => new LoraLinear(baseLayer, 4, 2, 0, new WeightCompander()),
        "pissa" => PissaLinear.Create(baseLayer, 4, 1, 0, 0, null),
        "bone-balance" => new BoneLinear(baseLayer, BoneOptions.Balance, 4, null),
        "bone-bat" => new BoneLinear(baseLayer, BoneOptions.Bat, 4, null),
        "bone-bat-compander" => new BoneLinear(baseLayer, BoneOptions.Bat, 4, new WeightCompander()),
        _ => throw new ArgumentException(method, nameof(method)),
    };

    internal static Linear RandomLinear(int seed)
    {
        var linear = nn.Linear(In, Out, hasBias: false);
        using var noGrad = torch.no_grad();
        linear.weight!.copy_(torch.randn(Out, In, generator: new Generator((ulong)seed)) * 0.3);
        return linear;
    }

    /// <summary>Moves every trainable parameter by small random amounts, as training would.</summary>
    internal static void Perturb(AdapterLinear adapter, int seed)
    {
        var generator = new Generator((ulong)seed);
        using var noGrad = torch.no_grad();
        foreach (var (_, parameter) in adapter.Trainable)
        {
            parameter.add_(torch.randn(parameter.shape, generator: generator) * 0.05);
        }
    }
}
