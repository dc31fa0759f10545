using Optimizer.Worker.Methods.Prune;
using Optimizer.Worker.Methods.Prune.Magnitude;
using Optimizer.Worker.Methods.Prune.Wanda;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Prune;

/// <summary>ALGORITHMS.md Part C §2.1, 2.2, 2.4 invariants of the masks.</summary>
public sealed class PruneMaskTests
{
    [Fact]
    public void PruneLinear_KeepsHighActivationColumn_InWandaWorkedExample()
    {
        using var weight = torch.tensor(new float[] { 1, 2, 3, 0.5f }, [2, 2]);
        using var squaredNorms = torch.tensor(new float[] { 100, 1 });

        WandaCalibrator.PruneLinear(weight, squaredNorms, new PruneSpec(0.5, 0, 0));

        Assert.Equal([1f, 0f, 3f, 0f], weight.data<float>().ToArray());
    }

    [Fact]
    public void Prune_ZeroesSmallestMagnitudes_WhereWandaWouldNot_InWorkedExample()
    {
        using var weight = torch.tensor(new float[] { 1, 2, 3, 0.5f }, [2, 2]);

        MagnitudePipeline.Prune(weight, new PruneSpec(0.5, 0, 0));

        // Plain magnitude prunes the "1" and the "0.5" (ALGORITHMS.md 2.2).
        Assert.Equal([0f, 2f, 3f, 0f], weight.data<float>().ToArray());
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(4, 8)]
    [InlineData(1, 4)]
    public void NOfM_LeavesAtMostNNonZerosPerGroup_ForMagnitudeAndWanda(int n, int m)
    {
        torch.manual_seed(7);
        using var magnitude = torch.randn(16, 64);
        using var wanda = magnitude.clone();
        using var norms = torch.rand(64) * 10;
        var spec = new PruneSpec(1.0 - (double)n / m, n, m);

        MagnitudePipeline.Prune(magnitude, spec);
        WandaCalibrator.PruneLinear(wanda, norms, spec);

        foreach (var pruned in new[] { magnitude, wanda })
        {
            using var perGroup = pruned.ne(0).reshape(16, 64 / m, m).sum(-1);
            Assert.True(perGroup.max().item<long>() <= n, $"a group of {m} holds more than {n} non-zeros");
            // Random weights have no zeros of their own: every group holds exactly n.
            Assert.Equal(n, perGroup.min().item<long>());
        }
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.3)]
    [InlineData(0.7)]
    public void PerRow_HitsTargetWithinOneElementPerRow(double sparsity)
    {
        torch.manual_seed(11);
        using var score = torch.rand(10, 37);

        using var mask = PruneMask.PerRow(score, sparsity);

        using var perRow = mask.sum(1).to(ScalarType.Float64);
        var target = 37 * sparsity;
        Assert.True((perRow - target).abs().max().item<double>() < 1, $"rows pruned {perRow.min().item<double>()}..{perRow.max().item<double>()}, target {target}");
        // The rows share the remainder: the tensor loses exactly ⌊rows·in·s⌋.
        Assert.Equal((long)Math.Floor(10 * 37 * sparsity), mask.sum().item<long>());
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void PerTensor_HitsTargetWithinOneElement_EvenWithTies(double sparsity)
    {
        using var score = torch.ones(12, 20);

        using var mask = PruneMask.PerTensor(score, sparsity);

        Assert.True(Math.Abs(mask.sum().item<long>() - 240 * sparsity) < 1);
    }

    [Fact]
    public void NOfM_Throws_WhenInputSizeIsNotAMultipleOfM()
    {
        using var score = torch.rand(2, 6);

        Assert.Throws<ArgumentException>(() => PruneMask.NOfM(score, 2, 4).Dispose());
    }
}
