using Optimizer.Worker.Methods.Prune.Farms;

namespace Optimizer.Worker.Tests.Methods.Prune;

/// <summary>ALGORITHMS.md Part C 2.5 invariants of the AlphaPruning mapping FARMS allocation uses.</summary>
public sealed class AlphaAllocationTests
{
    private static readonly LayerAlpha[] s_layers =
    [
        new("l0.q", 0, 16_384, 3.1), new("l0.down", 0, 49_152, 2.4),
        new("l1.q", 1, 16_384, 4.0), new("l1.down", 1, 49_152, 5.2),
        new("l2.q", 2, 16_384, 2.0), new("l2.down", 2, 49_152, 6.5),
        new("l3.q", 3, 8_192, 3.3), new("l3.down", 3, 49_152, 3.9),
    ];

    [Theory]
    [InlineData(0.5, 0.3, true)]
    [InlineData(0.7, 0.3, false)]
    [InlineData(0.6, 0.1, true)]
    [InlineData(0.2, 0.5, false)]
    public void Sparsities_HaveParameterWeightedMeanEqualToTarget(double target, double epsilon, bool blockWise)
    {
        var sparsities = AlphaAllocation.Sparsities(s_layers, target, epsilon, blockWise);

        var mean = s_layers.Sum(l => l.Parameters * sparsities[l.Name]) / s_layers.Sum(l => (double)l.Parameters);
        Assert.Equal(target, mean, 12);
        Assert.True(sparsities.Values.Distinct().Count() > 1, "the allocation is not uniform");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Sparsities_AreMonotoneInAlpha(bool blockWise)
    {
        var sparsities = AlphaAllocation.Sparsities(s_layers, 0.6, 0.3, blockWise);

        var score = blockWise
            ? s_layers.ToDictionary(l => l.Name, l => s_layers.Where(o => o.Block == l.Block).Average(o => o.Alpha))
            : s_layers.ToDictionary(l => l.Name, l => l.Alpha);
        foreach (var a in s_layers)
        {
            foreach (var b in s_layers.Where(b => score[b.Name] > score[a.Name]))
            {
                Assert.True(sparsities[b.Name] >= sparsities[a.Name],
                    $"{b.Name} (score {score[b.Name]}) gets {sparsities[b.Name]} < {a.Name} (score {score[a.Name]}) {sparsities[a.Name]}");
            }
        }
    }

    [Fact]
    public void Sparsities_SpanTheEpsilonRange_AroundTheTarget()
    {
        var sparsities = AlphaAllocation.Sparsities(s_layers, 0.5, 0.3, blockWise: false);

        // Before rescaling the ratios span [1 - ε, 1 + ε]; rescaling keeps their quotient.
        Assert.Equal(1.3 / 0.7, sparsities.Values.Max() / sparsities.Values.Min(), 9);
    }

    [Fact]
    public void Sparsities_ClampAtTheCap_AndKeepTheMean()
    {
        var sparsities = AlphaAllocation.Sparsities(s_layers, 0.9, 0.3, blockWise: false, maxSparsity: 0.99);

        Assert.All(sparsities.Values, s => Assert.InRange(s, 0, 0.99 + 1e-12));
        var mean = s_layers.Sum(l => l.Parameters * sparsities[l.Name]) / s_layers.Sum(l => (double)l.Parameters);
        Assert.Equal(0.9, mean, 12);
    }

    [Fact]
    public void Sparsities_AreUniform_WhenAlphasAreEqualOrUnknown()
    {
        LayerAlpha[] layers = [new("a", 0, 100, 3.0), new("b", 1, 300, 3.0), new("c", 2, 50, double.NaN)];

        var sparsities = AlphaAllocation.Sparsities(layers, 0.5, 0.3);

        Assert.All(sparsities.Values, s => Assert.Equal(0.5, s, 12));
    }

    [Theory]
    [InlineData("model.layers.12.mlp.up_proj.weight", 12)]
    [InlineData("model.layers.0.self_attn.q_proj.weight", 0)]
    [InlineData("lm_head.weight", 0)]
    public void BlockOf_ReadsTheLayerIndex(string name, int block)
    {
        Assert.Equal(block, FarmsAllocator.BlockOf(name));
    }
}
