using Optimizer.Worker.Calibration;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Calibration;

public sealed class HessianAccumulatorTests
{
    [Fact]
    public void Add_EqualsTwoXtXOverTokens_WhenFedInUnevenBatches()
    {
        var generator = new torch.Generator(3);
        using var x = torch.randn([37, 6], generator: generator);
        using var hessian = new HessianAccumulator(6);

        hessian.Add(x.narrow(0, 0, 5).reshape(1, 5, 6));
        hessian.Add(x.narrow(0, 5, 20));
        hessian.Add(x.narrow(0, 25, 12));

        using var expected = x.to(ScalarType.Float64).t().matmul(x.to(ScalarType.Float64)) * (2.0 / 37);
        Assert.Equal(37, hessian.Tokens);
        Assert.True(hessian.Value.allclose(expected, rtol: 1e-9, atol: 1e-12));
    }

    [Fact]
    public void Add_AccumulatesTheCrossTerm_WhenGivenTwoInputs()
    {
        var generator = new torch.Generator(4);
        using var left = torch.randn([10, 3], generator: generator);
        using var right = torch.randn([10, 3], generator: generator);
        using var cross = new HessianAccumulator(3, ScalarType.Float32);

        cross.Add(left.narrow(0, 0, 4), right.narrow(0, 0, 4));
        cross.Add(left.narrow(0, 4, 6), right.narrow(0, 4, 6));

        using var expected = left.t().matmul(right) * (2.0 / 10);
        Assert.True(cross.Value.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Add_Throws_WhenFeaturesDisagree()
    {
        using var hessian = new HessianAccumulator(4);
        using var x = torch.ones([2, 5]);
        Assert.Throws<ArgumentException>(() => hessian.Add(x));
    }
}
