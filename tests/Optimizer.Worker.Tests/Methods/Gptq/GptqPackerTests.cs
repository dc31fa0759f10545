using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Gptq;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Gptq;

public sealed class GptqPackerTests
{
    [Theory]
    [InlineData(4, false, false)]
    [InlineData(4, true, false)]
    [InlineData(3, true, false)]
    [InlineData(2, true, true)]
    public void Pack_DequantizesBackToTheSolution_ThroughGroupIndex(int bits, bool actOrder, bool staticGroups)
    {
        var spec = new RtnSpec(bits, 16, false);
        using var weight = GptqSolverTests.RandomWeight(32, 64, seed: 40 + bits);
        using var hessian = GptqSolverTests.CorrelatedHessian(64, seed: 41);
        using var solution = GptqSolver.Solve(weight, hessian, new IntColumnQuantizer(spec),
            new GptqSolverSettings(GroupSize: 16, ActOrder: actOrder, StaticGroups: staticGroups));

        var linear = GptqPacker.Pack(solution, spec);
        var dense = new float[32 * 64];
        linear.Dequantize(dense);

        Assert.Equal(solution.GroupIndex, linear.GIdx);
        using var reread = torch.tensor(dense, [32, 64]);
        // Only the float16 rounding of the stored scales separates the two.
        Assert.True(reread.allclose(solution.Quantized, rtol: 2e-3, atol: 1e-5), "packed GPTQ linear does not dequantize to the solution");
    }
}
