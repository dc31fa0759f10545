using Optimizer.Worker.Methods.Merge.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Merge;

/// <summary>ALGORITHMS.md 3.3-3.5: TIES and DARE worked examples, task arithmetic identities.</summary>
public sealed class TaskVectorMergeTests
{
    private static readonly float[] s_tau1 = [0.5f, -0.1f, 0.3f];
    private static readonly float[] s_tau2 = [-0.4f, 0.2f, 0.1f];
    private static readonly float[] s_tau3 = [0.3f, 0f, -0.6f];

    [Fact]
    public void Combine_GivesTheWorkedTiesResult_WhenDensityIsOneAndWeightsAreEqual()
    {
        using var scope = torch.NewDisposeScope();
        var baseTensor = torch.zeros(3);
        var tensors = new MergeTensors("w", baseTensor, [torch.tensor(s_tau1), torch.tensor(s_tau2), torch.tensor(s_tau3)], [1.0, 1.0, 1.0]);
        var settings = new TaskVectorSettings(Sparsification.Magnitude, SignConsensus: true, 1.0, DareRescale.None, 0, Normalize: true, Lambda: 1);

        var merged = TaskVectorMerge.Combine(tensors, settings);

        AssertClose([0.4f, 0.2f, -0.6f], merged);
    }

    [Fact]
    public void Combine_AddsTheElectedMeanToTheBase_WhenTheBaseIsNotZero()
    {
        using var scope = torch.NewDisposeScope();
        var baseTensor = torch.tensor(new[] { 1f, 2f, 3f });
        var inputs = new[] { s_tau1, s_tau2, s_tau3 }.Select(t => baseTensor + torch.tensor(t)).Cast<Tensor?>().ToList();
        var settings = new TaskVectorSettings(Sparsification.Magnitude, SignConsensus: true, 1.0, DareRescale.None, 0, Normalize: true, Lambda: 0.5);

        var merged = TaskVectorMerge.Combine(new MergeTensors("w", baseTensor, inputs, [1.0, 1.0, 1.0]), settings);

        AssertClose([1.2f, 2.1f, 2.7f], merged);
    }

    [Fact]
    public void Combine_ElectsSignsByWeightedMass_AndCountsAZeroSumAsPositive()
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new MergeTensors("w", torch.zeros(3), [torch.tensor(s_tau1), torch.tensor(s_tau2), torch.tensor(s_tau3)], [2.0, 1.0, 1.0]);
        var settings = new TaskVectorSettings(Sparsification.Magnitude, SignConsensus: true, 1.0, DareRescale.None, 0, Normalize: true, Lambda: 1);

        var merged = TaskVectorMerge.Combine(tensors, settings);

        // Weighted: [1, -.2, .6], [-.4, .2, .1], [.3, 0, -.6]; sums [.9, 0, .1] elect +, + (tie), +.
        // Agreeing mass / agreeing weight: (1 + .3) / 3, .2 / 1, (.6 + .1) / 3.
        AssertClose([1.3f / 3, 0.2f, 0.7f / 3], merged);
    }

    [Fact]
    public void Magnitude_KeepsTheLargestFraction_WhenDensityIsBelowOne()
    {
        using var scope = torch.NewDisposeScope();
        var trimmed = Sparsify.Magnitude(torch.tensor(new[] { 0.5f, -0.1f, 0.3f, -0.7f, 0.05f }), 0.4);

        AssertClose([0.5f, 0f, 0f, -0.7f, 0f], trimmed);
    }

    [Fact]
    public void Rescaled_GivesTheWorkedDareResult_WhenTheMaskIsFixedAndRescaleIsExpectation()
    {
        using var scope = torch.NewDisposeScope();
        var tau = torch.tensor(new[] { 0.2f, 0.4f, -0.2f, 0.1f });
        var mask = torch.tensor(new[] { 1f, 0f, 1f, 0f });

        var dropped = Sparsify.Rescaled(tau, mask, DareRescale.Expectation, density: 0.5);

        AssertClose([0.4f, 0f, -0.4f, 0f], dropped);
    }

    [Fact]
    public void Rescaled_KeepsTheL1Norm_WhenRescaleIsL1()
    {
        using var scope = torch.NewDisposeScope();
        var tau = torch.tensor(new[] { 0.2f, 0.4f, -0.2f, 0.1f });
        var mask = torch.tensor(new[] { 1f, 0f, 1f, 0f });

        var dropped = Sparsify.Rescaled(tau, mask, DareRescale.L1, density: 0.5);

        // ||τ||₁ = 0.9, ||masked||₁ = 0.4: survivors scaled by 2.25.
        AssertClose([0.45f, 0f, -0.45f, 0f], dropped);
        Assert.Equal(0.9, dropped.abs().sum().item<float>(), 5);
    }

    [Fact]
    public void Bernoulli_MeanApproachesTheTaskVector_OverManySeeds()
    {
        using var scope = torch.NewDisposeScope();
        var tau = torch.tensor(new[] { 0.2f, 0.4f, -0.2f, 0.1f });
        var sum = torch.zeros(4);
        const int Draws = 4000;
        for (var seed = 0; seed < Draws; seed++)
        {
            sum.add_(Sparsify.Bernoulli(tau, 0.3, DareRescale.Expectation, MaskSeeds.For(seed, "w", 0)));
        }

        var mean = sum / Draws;

        // Each mean has standard error |τ|·sqrt((1-d)/d)/sqrt(n) ≤ 0.01 here; 0.05 is five of them (no rescale would miss by 0.28).
        var error = (mean - tau).abs().max().item<float>();
        Assert.True(error < 0.05f, $"max |mean - tau| = {error}");
    }

    [Fact]
    public void Bernoulli_IsReproducible_WhenTheSeedIsTheSame()
    {
        using var scope = torch.NewDisposeScope();
        var tau = torch.randn(1000, generator: new torch.Generator(3));

        var first = Sparsify.Bernoulli(tau, 0.5, DareRescale.None, MaskSeeds.For(42, "model.layers.0.mlp.up_proj.weight", 1));
        var again = Sparsify.Bernoulli(tau, 0.5, DareRescale.None, MaskSeeds.For(42, "model.layers.0.mlp.up_proj.weight", 1));
        var otherModel = Sparsify.Bernoulli(tau, 0.5, DareRescale.None, MaskSeeds.For(42, "model.layers.0.mlp.up_proj.weight", 0));

        Assert.True(MergeRun.Same(first, again));
        Assert.False(MergeRun.Same(first, otherModel));
        var kept = first.ne(0).sum().item<long>();
        Assert.InRange(kept, 400, 600);
    }

    [Fact]
    public void Combine_ReproducesTheFineTune_WhenOneTaskIsAddedWithLambdaOne()
    {
        using var scope = torch.NewDisposeScope();
        var baseTensor = torch.randn(64, 32, generator: new torch.Generator(1));
        var fineTuned = baseTensor + torch.randn(64, 32, generator: new torch.Generator(2)) * 0.01f;
        var settings = new TaskVectorSettings(Sparsification.None, SignConsensus: false, 1.0, DareRescale.None, 0, Normalize: false, Lambda: 1);

        var merged = TaskVectorMerge.Combine(new MergeTensors("w", baseTensor, [fineTuned], [1.0]), settings);

        // base + (ft - base) in float32: at most one rounding of each step away from ft.
        Assert.True(merged.allclose(fineTuned, rtol: 0, atol: 1e-6), "task arithmetic with lambda 1 did not reproduce the fine-tune");
    }

    [Fact]
    public void Combine_SubtractsTheTask_WhenLambdaIsNegative()
    {
        using var scope = torch.NewDisposeScope();
        var baseTensor = torch.tensor(new[] { 1f, 1f });
        var fineTuned = torch.tensor(new[] { 1.5f, 0.5f });
        var settings = new TaskVectorSettings(Sparsification.None, SignConsensus: false, 1.0, DareRescale.None, 0, Normalize: false, Lambda: -1);

        var merged = TaskVectorMerge.Combine(new MergeTensors("w", baseTensor, [fineTuned], [1.0]), settings);

        AssertClose([0.5f, 1.5f], merged);
    }

    [Fact]
    public void Combine_DareTiesDropsByTheSeededMasksAndElectsSigns_UnlikeTaskArithmetic()
    {
        using var scope = torch.NewDisposeScope();
        const string name = "model.layers.0.mlp.up_proj.weight";
        float[] tau1 = [0.5f, -0.2f, 0.3f, 0.1f, -0.4f, 0.6f, 0.2f, -0.1f, 0.7f, -0.3f, 0.4f, -0.5f];
        float[] tau2 = [-0.3f, 0.4f, 0.2f, -0.5f, -0.1f, 0.3f, -0.6f, 0.2f, -0.2f, 0.1f, -0.7f, 0.6f];
        var baseTensor = torch.zeros(12);
        var tensors = new MergeTensors(name, baseTensor, [torch.tensor(tau1), torch.tensor(tau2)], [1.0, 1.0]);
        var options = new Optimizer.Domain.Methods.Merge.Dare.DareTiesOptions { Density = 0.5, Seed = 7, Rescale = "expectation" };

        var dareTies = TaskVectorMerge.Combine(tensors, Optimizer.Worker.Methods.Merge.Dare.DareSettings.From(options, signConsensus: true));
        var dareLinear = TaskVectorMerge.Combine(tensors, Optimizer.Worker.Methods.Merge.Dare.DareSettings.From(options, signConsensus: false));
        var taskArithmetic = TaskVectorMerge.Combine(tensors,
            new TaskVectorSettings(Sparsification.None, SignConsensus: false, 1.0, DareRescale.None, 0, Normalize: false, Lambda: 1));

        // The known masks: the Bernoulli(0.5) draws of each model's stream for this tensor and seed.
        var masks = new[] { 0, 1 }.Select(i => torch.bernoulli(torch.full(12, 0.5f), new torch.Generator(MaskSeeds.For(7, name, i)))
            .data<float>().ToArray()).ToArray();
        Assert.All(masks, m => Assert.Contains(0f, m));
        Assert.All(masks, m => Assert.Contains(1f, m));
        var expected = new float[12];
        var expectedLinear = new float[12];
        for (var k = 0; k < 12; k++)
        {
            var d1 = tau1[k] * masks[0][k] / 0.5f;
            var d2 = tau2[k] * masks[1][k] / 0.5f;
            var elected = d1 + d2 >= 0 ? 1 : -1;
            // TIES keeps only the entries whose sign is the elected one (a dropped entry, 0, never matches).
            expected[k] = (Math.Sign(d1) == elected ? d1 : 0) + (Math.Sign(d2) == elected ? d2 : 0);
            expectedLinear[k] = d1 + d2;
        }
        AssertClose(expected, dareTies);
        AssertClose(expectedLinear, dareLinear);
        // Where both survive with opposite signs, TIES differs from the plain sum; so must the merges.
        Assert.Contains(Enumerable.Range(0, 12), k => Math.Abs(expected[k] - expectedLinear[k]) > 1e-3);
        Assert.False(dareTies.allclose(taskArithmetic, rtol: 0, atol: 1e-4), "dare_ties gave the task-arithmetic merge");
        Assert.False(dareTies.allclose(dareLinear, rtol: 0, atol: 1e-4), "dare_ties gave the dare_linear merge (no sign election)");
    }

    private static void AssertClose(float[] expected, Tensor actual)
    {
        var values = actual.to_type(ScalarType.Float32).data<float>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - values[i]) < 1e-5, $"[{i}] expected {expected[i]}, got {values[i]}");
        }
    }
}
