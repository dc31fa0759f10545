using Optimizer.Domain.Methods.Merge.Slerp;
using Optimizer.Worker.Methods.Merge.Linear;
using Optimizer.Worker.Methods.Merge.Slerp;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Merge;

/// <summary>ALGORITHMS.md 3.1-3.2: the SLERP example, its lerp fallback and the linear merge identities.</summary>
public sealed class SlerpAndLinearTests
{
    [Fact]
    public void Interpolate_GivesTheWorkedExample_ForOrthogonalUnitVectors()
    {
        using var scope = torch.NewDisposeScope();

        var result = SlerpMath.Interpolate(0.5, torch.tensor(new[] { 1f, 0f }), torch.tensor(new[] { 0f, 1f }));

        var values = result.data<float>().ToArray();
        Assert.Equal(0.70710677, values[0], 5);
        Assert.Equal(0.70710677, values[1], 5);
    }

    [Fact]
    public void Interpolate_KeepsTheNormOnTheArc_WhereLerpWouldShrinkIt()
    {
        using var scope = torch.NewDisposeScope();
        var v0 = torch.tensor(new[] { 3f, 0f });
        var v1 = torch.tensor(new[] { 0f, 3f });

        var result = SlerpMath.Interpolate(0.25, v0, v1);

        // On the arc: angle 22.5° from v0 and radius 3.
        var values = result.data<float>().ToArray();
        Assert.Equal(3 * Math.Cos(Math.PI / 8), values[0], 4);
        Assert.Equal(3 * Math.Sin(Math.PI / 8), values[1], 4);
    }

    [Fact]
    public void Interpolate_FallsBackToLerp_WhenTheTensorsAreNearlyParallel()
    {
        using var scope = torch.NewDisposeScope();
        var v0 = torch.tensor(new[] { 1f, 2f, 3f });
        var v1 = torch.tensor(new[] { 2f, 4.001f, 6f });

        var result = SlerpMath.Interpolate(0.3, v0, v1);

        var expected = (v0 * 0.7f + v1 * 0.3f).data<float>().ToArray();
        Assert.Equal(expected, result.data<float>().ToArray());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void Interpolate_ReturnsAnEndpoint_WhenTIsZeroOrOne(double t)
    {
        using var scope = torch.NewDisposeScope();
        var v0 = torch.randn(50, generator: new torch.Generator(5));
        var v1 = torch.randn(50, generator: new torch.Generator(6));

        var result = SlerpMath.Interpolate(t, v0, v1);

        Assert.True(result.allclose(t == 0 ? v0 : v1, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void TFor_FollowsTheGradientAcrossLayers_AndUsesTElsewhere()
    {
        var options = new SlerpOptions { T = 0.3, TGradient = [0.0, 1.0] };

        Assert.Equal(0.0, SlerpPipeline.TFor(options, "model.layers.0.mlp.up_proj.weight", 5), 9);
        Assert.Equal(0.5, SlerpPipeline.TFor(options, "model.layers.2.mlp.up_proj.weight", 5), 9);
        Assert.Equal(1.0, SlerpPipeline.TFor(options, "model.layers.4.mlp.up_proj.weight", 5), 9);
        Assert.Equal(0.3, SlerpPipeline.TFor(options, "model.embed_tokens.weight", 5), 9);
    }

    [Fact]
    public void Combine_ReturnsTheModel_WhenEqualWeightsAverageIdenticalModels()
    {
        using var scope = torch.NewDisposeScope();
        var model = torch.randn(16, 8, generator: new torch.Generator(9));

        var merged = LinearMerge.Combine([model, model.clone(), model.clone()], [1.0, 1.0, 1.0], normalize: true);

        Assert.True(merged.allclose(model, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Combine_DividesByTheWeightSum_OnlyWhenNormalizing()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new[] { 1f, 0f });
        var b = torch.tensor(new[] { 0f, 1f });

        var normalized = LinearMerge.Combine([a, b], [3.0, 1.0], normalize: true).data<float>().ToArray();
        var summed = LinearMerge.Combine([a, b], [3.0, 1.0], normalize: false).data<float>().ToArray();

        Assert.Equal([0.75f, 0.25f], normalized);
        Assert.Equal([3f, 1f], summed);
    }
}
