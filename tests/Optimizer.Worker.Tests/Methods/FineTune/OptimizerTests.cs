using Optimizer.Worker.Methods.FineTune.Shared;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.FineTune;

/// <summary>ALGORITHMS.md 4.4 (AdamP) and 4.5 (Weight Compander) invariants, and the schedule.</summary>
public sealed class OptimizerTests
{
    [Fact]
    public void AdamPProjection_StripsRadialComponent_WhenGradientOrthogonalToWeight()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(21);
        var p = torch.randn(6, 10, generator: generator);
        var raw = torch.randn(6, 10, generator: generator);
        // A scale-invariant weight's gradient is orthogonal to it, row by row.
        var pn = p / p.norm(1, keepdim: true);
        var grad = raw - pn * (pn * raw).sum(1, keepdim: true);
        var perturb = torch.randn(6, 10, generator: generator);
        var (projected, wdRatio) = AdamPProjection.Project(p, grad, perturb, delta: 0.1, wdRatio: 0.1, eps: 1e-8);
        var radial = (p * projected).sum(1);
        Assert.True(radial.abs().max().item<float>() < 1e-4, "<p, perturb> must vanish on every row");
        Assert.Equal(0.1, wdRatio);
        Assert.True((p * perturb).sum(1).abs().max().item<float>() > 1e-2, "the unprojected update had a radial component");
    }

    [Fact]
    public void AdamPProjection_KeepsUpdate_WhenGradientAlignedWithWeight()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(22);
        var p = torch.randn(6, 10, generator: generator);
        var perturb = torch.randn(6, 10, generator: generator);
        var (projected, wdRatio) = AdamPProjection.Project(p, p * 2, perturb, 0.1, 0.1, 1e-8);
        Assert.Equal(1.0, wdRatio);
        Assert.True(projected.allclose(perturb, rtol: 0, atol: 0), "an update with an aligned gradient stays as it is");
    }

    [Fact]
    public void AdamPStep_KeepsRowNormsNearlyFixed_WhenGradientOrthogonal()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(23);
        var parameter = new Parameter(torch.randn(4, 32, generator: generator), requires_grad: true);
        var pn = parameter.detach() / parameter.detach().norm(1, keepdim: true);
        var raw = torch.randn(4, 32, generator: generator);
        parameter.grad = raw - pn * (pn * raw).sum(1, keepdim: true);
        var before = parameter.detach().norm(1).clone();
        using var adamp = new AdamOptimizer([("w", parameter)], new AdamSettings(Projected: true));
        adamp.Step(0.01);
        var after = parameter.detach().norm(1);
        // First-order: the projected step is tangent, so the norm only grows by O(step²).
        Assert.True((after - before).abs().max().item<float>() < 2e-3, "AdamP's tangent step should not change row norms to first order");
    }

    [Fact]
    public void WeightCompander_IsOddMonotoneSublinearAndExpandsNearZero()
    {
        var compander = new WeightCompander();
        double[] points = [-5, -1, -0.3, -0.01, 0, 0.01, 0.3, 1, 5, 50];
        foreach (var v in points)
        {
            Assert.Equal(-compander.Apply(v), compander.Apply(-v), 12);
        }
        for (var i = 1; i < points.Length; i++)
        {
            Assert.True(compander.Apply(points[i]) > compander.Apply(points[i - 1]), "f must be increasing");
        }
        Assert.True(compander.Apply(0.01) > 0.01 * 1.5, "slope above 1 near 0");
        Assert.True(compander.Apply(50) < 50 / 5.0, "sub-linear growth");
        Assert.Equal(1.0, compander.Apply(1.0), 12);
    }

    [Fact]
    public void WeightCompander_GradientMatchesFiniteDifference_AndInverseRoundTrips()
    {
        using var scope = torch.NewDisposeScope();
        var compander = new WeightCompander();
        var v = torch.tensor(new double[] { -2, -0.5, 0, 0.1, 1.5 }).requires_grad_(true);
        compander.Apply(v).sum().backward();
        var values = v.detach().data<double>().ToArray();
        var grads = v.grad!.data<double>().ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            const double h = 1e-6;
            var numeric = (compander.Apply(values[i] + h) - compander.Apply(values[i] - h)) / (2 * h);
            Assert.Equal(numeric, grads[i], 6);
        }
        var w = torch.tensor(new double[] { -3, -0.2, 0, 0.7 });
        Assert.True(compander.Apply(compander.Inverse(w)).allclose(w, atol: 1e-10));
    }

    [Fact]
    public void CosineSchedule_WarmsUpThenDecaysToMinimum()
    {
        var schedule = new CosineSchedule(1e-3, WarmupSteps: 4, TotalSteps: 20, MinRatio: 0.1);
        Assert.Equal(2.5e-4, schedule.At(0), 12);
        Assert.Equal(1e-3, schedule.At(4), 12);
        Assert.Equal(1e-4, schedule.At(19), 12);
        Assert.True(schedule.At(10) < schedule.At(5) && schedule.At(10) > schedule.At(18));
    }
}
