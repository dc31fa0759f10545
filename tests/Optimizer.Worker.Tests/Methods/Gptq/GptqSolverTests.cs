using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Gptq;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Gptq;

/// <summary>ALGORITHMS.md 1.2–1.4 invariants on tiny tensors.</summary>
public sealed class GptqSolverTests
{
    private static readonly RtnSpec Spec4 = new(4, 16, false);

    [Theory]
    [InlineData(false, 16)]
    [InlineData(true, 16)]
    [InlineData(false, -1)]
    public void Solve_EqualsRtn_WhenHessianIsIdentity(bool symmetric, int groupSize)
    {
        var spec = new RtnSpec(4, groupSize, symmetric);
        using var weight = RandomWeight(12, 64, seed: 1);
        using var identity = torch.eye(64, dtype: ScalarType.Float64);

        using var solution = GptqSolver.Solve(weight, identity, new IntColumnQuantizer(spec), new GptqSolverSettings(GroupSize: groupSize, BlockSize: 16));

        using var expected = Rtn(weight, spec);
        // GPTQ with H = I must be RTN bit for bit.
        TensorAssert.Equal(expected, solution.Quantized);
    }

    [Fact]
    public void Solve_DoesNotDependOnBlockSize_OnCorrelatedInputs()
    {
        using var weight = RandomWeight(16, 64, seed: 2);
        using var hessian = CorrelatedHessian(64, seed: 3);
        var quantizer = new IntColumnQuantizer(Spec4);

        using var reference = GptqSolver.Solve(weight, hessian, quantizer, new GptqSolverSettings(GroupSize: 16, BlockSize: 1));
        foreach (var blockSize in new[] { 32, 128, 24 })
        {
            using var other = GptqSolver.Solve(weight, hessian, quantizer, new GptqSolverSettings(GroupSize: 16, BlockSize: blockSize));
            // Lazy batching re-associates float32 sums; allow the odd rounding flip, nothing more.
            using var differs = (other.Quantized - reference.Quantized).abs().gt(1e-4).sum();
            Assert.True(differs.item<long>() <= weight.numel() / 200, $"block size {blockSize}: {differs.item<long>()} entries differ");
        }
    }

    [Fact]
    public void Solve_PutsEveryEntryOnItsGroupsGrid_WithActOrder()
    {
        using var weight = RandomWeight(8, 64, seed: 4);
        using var hessian = CorrelatedHessian(64, seed: 5);

        using var solution = GptqSolver.Solve(weight, hessian, new IntColumnQuantizer(Spec4), new GptqSolverSettings(GroupSize: 16, ActOrder: true));

        Assert.Equal(4, solution.Grids.Count);
        Assert.Equal(Enumerable.Repeat(16, 4), solution.GroupIndex.GroupBy(g => g).OrderBy(g => g.Key).Select(g => g.Count()));
        Assert.NotEqual(Enumerable.Range(0, 64).Select(i => i / 16), solution.GroupIndex);
        for (var column = 0; column < 64; column++)
        {
            using var value = solution.Quantized.select(1, column);
            using var again = solution.Grids[solution.GroupIndex[column]].Quantize(value);
            Assert.True(again.allclose(value, rtol: 0, atol: 1e-6), $"column {column} is off its grid");
        }
    }

    [Fact]
    public void Solve_KeepsGroupIndexTrivial_WithStaticGroupsAndActOrder()
    {
        using var weight = RandomWeight(8, 64, seed: 6);
        using var hessian = CorrelatedHessian(64, seed: 7);

        using var solution = GptqSolver.Solve(weight, hessian, new IntColumnQuantizer(Spec4),
            new GptqSolverSettings(GroupSize: 16, ActOrder: true, StaticGroups: true));

        Assert.Equal(Enumerable.Range(0, 64).Select(i => i / 16), solution.GroupIndex);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    public void Solve_HasNoMoreOutputErrorThanRtn_OnCorrelatedInputs(int seed)
    {
        using var weight = RandomWeight(16, 64, seed);
        using var inputs = CorrelatedInputs(512, 64, seed + 100);
        using var hessian = inputs.t().matmul(inputs) * (2.0 / 512);

        using var solution = GptqSolver.Solve(weight, hessian, new IntColumnQuantizer(Spec4), new GptqSolverSettings(GroupSize: 16, ActOrder: true));
        using var rtn = Rtn(weight, Spec4);

        var gptqError = OutputError(weight, solution.Quantized, inputs);
        var rtnError = OutputError(weight, rtn, inputs);
        Assert.True(gptqError <= rtnError, $"GPTQ ‖WX − QX‖ {gptqError} > RTN {rtnError}");
    }

    [Fact]
    public void Solve_EqualsGptq_WhenCorrectionCrossTermIsZero()
    {
        using var weight = RandomWeight(8, 32, seed: 20);
        using var hessian = CorrelatedHessian(32, seed: 21);
        using var zero = torch.zeros([32, 32], ScalarType.Float64);
        var settings = new GptqSolverSettings(GroupSize: 16, ActOrder: true, BlockSize: 8);
        var quantizer = new IntColumnQuantizer(Spec4);

        using var gptq = GptqSolver.Solve(weight, hessian, quantizer, settings);
        using var gptaq = GptqSolver.Solve(weight, hessian, quantizer, settings, new GptqCorrection(zero));

        TensorAssert.Equal(gptq.Quantized, gptaq.Quantized);
    }

    [Fact]
    public void Solve_ZeroesDeadColumns()
    {
        using var weight = RandomWeight(8, 32, seed: 30);
        using var hessian = CorrelatedHessian(32, seed: 31);
        hessian[5].zero_();
        hessian[.., 5].zero_();

        using var solution = GptqSolver.Solve(weight, hessian, new IntColumnQuantizer(Spec4), new GptqSolverSettings(GroupSize: 16));

        Assert.Equal(0f, solution.Quantized.select(1, 5).abs().max().item<float>());
    }

    internal static Tensor RandomWeight(long rows, long columns, int seed) =>
        torch.randn([rows, columns], generator: new torch.Generator((ulong)seed)) * 0.1;

    /// <summary>Tokens whose features share a few latent factors (like real activations), <c>[n, features]</c>.</summary>
    internal static Tensor CorrelatedInputs(long tokens, long features, int seed)
    {
        var generator = new torch.Generator((ulong)seed);
        using var latent = torch.randn([tokens, 8], generator: generator);
        using var mixing = torch.randn([8, features], generator: generator);
        using var noise = torch.randn([tokens, features], generator: generator) * 0.3;
        using var scales = torch.rand([features], generator: generator) * 3 + 0.1;
        return (latent.matmul(mixing) + noise) * scales;
    }

    internal static Tensor CorrelatedHessian(long features, int seed)
    {
        using var x = CorrelatedInputs(256, features, seed);
        return (x.t().matmul(x) * (2.0 / 256)).to(ScalarType.Float64);
    }

    /// <summary>RTN through the Kernels codec, dequantized to float32 <c>[out, in]</c>.</summary>
    internal static Tensor Rtn(Tensor weight, RtnSpec spec)
    {
        var rows = (int)weight.shape[0];
        var columns = (int)weight.shape[1];
        var groups = spec.GroupCount(columns);
        var values = weight.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var codes = new byte[values.Length];
        var scales = new float[rows * groups];
        var zeros = new int[rows * groups];
        RtnQuantizer.Quantize(values, rows, columns, spec, codes, scales, zeros);
        var dense = new float[values.Length];
        RtnQuantizer.Dequantize(codes, scales, zeros, rows, columns, spec.GroupSize, dense);
        return torch.tensor(dense, [rows, columns]);
    }

    internal static double OutputError(Tensor weight, Tensor quantized, Tensor inputs)
    {
        using var diff = inputs.matmul((weight - quantized).t());
        return diff.square().sum().item<float>();
    }
}
