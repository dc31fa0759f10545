using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Methods.Quantize.Gptq;
using Optimizer.Worker.Tests.Methods.Gptq;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Quantize;

/// <summary>GPTQ rounding onto the FP4 E2M1 grid (ALGORITHMS.md 1.2 and 1.6 invariants) on tiny tensors.</summary>
public sealed class Fp4GptqRoundingTests
{
    [Theory]
    [InlineData(Fp4ScaleConstraint.None, 16)]
    [InlineData(Fp4ScaleConstraint.Pow2, 16)]
    [InlineData(Fp4ScaleConstraint.RowPow2, 16)]
    [InlineData(Fp4ScaleConstraint.RowPow2, -1)]
    public void Solve_EqualsRtn_WhenHessianIsIdentity(Fp4ScaleConstraint constraint, int groupSize)
    {
        var spec = new Fp4Spec(groupSize, constraint, 0);
        using var weight = GptqSolverTests.RandomWeight(12, 64, seed: 1);
        using var identity = torch.eye(64, dtype: ScalarType.Float64);

        var (linear, stored) = Round(weight, identity, spec);

        var rtn = Fp4Linear.Quantize(Floats(weight), 12, 64, spec);
        // GPTQ with H = I must be RTN bit for bit: the same codes, the same scales.
        Assert.Equal(rtn.Packed, linear.Packed);
        Assert.Equal(rtn.GroupScales, linear.GroupScales);
        Assert.Equal(rtn.RowScales, linear.RowScales);
        Assert.Equal(rtn.Dequantize(), Floats(stored));
    }

    [Theory]
    [InlineData(Fp4ScaleConstraint.None, 10)]
    [InlineData(Fp4ScaleConstraint.Pow2, 11)]
    [InlineData(Fp4ScaleConstraint.RowPow2, 12)]
    [InlineData(Fp4ScaleConstraint.None, 13)]
    public void Solve_HasNoMoreHessianWeightedErrorThanRtn_OnCorrelatedInputs(Fp4ScaleConstraint constraint, int seed)
    {
        var spec = new Fp4Spec(16, constraint, 0);
        using var weight = GptqSolverTests.RandomWeight(16, 64, seed);
        using var inputs = GptqSolverTests.CorrelatedInputs(512, 64, seed + 100);
        using var hessian = (inputs.t().matmul(inputs) * (2.0 / 512)).to(ScalarType.Float64);

        var (_, gptq) = Round(weight, hessian, spec);
        using var rtn = torch.tensor(Fp4Linear.Quantize(Floats(weight), 16, 64, spec).Dequantize(), [16, 64]);

        var gptqError = HessianWeightedError(weight, gptq, hessian);
        var rtnError = HessianWeightedError(weight, rtn, hessian);
        Assert.True(gptqError <= rtnError, $"GPTQ tr(ΔH Δᵀ) {gptqError} > RTN {rtnError}");
        // Not just equal: error feedback must have moved some codes.
        Assert.False(gptq.allclose(rtn, rtol: 0, atol: 0), "GPTQ rounding changed nothing");
    }

    [Theory]
    [InlineData(Fp4ScaleConstraint.Pow2)]
    [InlineData(Fp4ScaleConstraint.RowPow2)]
    public void Pack_KeepsPowerOfTwoGroupScales_AndStoresTheSolversWeight(Fp4ScaleConstraint constraint)
    {
        var spec = new Fp4Spec(16, constraint, 0);
        using var weight = GptqSolverTests.RandomWeight(8, 64, seed: 20);
        using var hessian = GptqSolverTests.CorrelatedHessian(64, seed: 21);
        var rounding = new Fp4GptqRounding(spec);
        var quantizer = rounding.QuantizerFor(weight);

        using var solution = GptqSolver.Solve(weight, hessian, quantizer, new GptqSolverSettings(16, ActOrder: true, StaticGroups: true));
        var (linear, stored) = rounding.Pack(solution, weight, quantizer);

        Assert.All(linear.GroupScales, s => Assert.Equal(s, Fp4Quantizer.CeilPow2(s)));
        // The packed codes hold exactly what the solver rounded to.
        Assert.Equal(Floats(solution.Quantized), linear.Dequantize());
        Assert.Equal(Floats(solution.Quantized), Floats(stored));
        stored.Dispose();
    }

    [Fact]
    public void Pack_FitsLorcToTheErrorAgainstTheOriginalWeight()
    {
        var plain = new Fp4Spec(16, Fp4ScaleConstraint.None, 0);
        var lorc = plain with { LorcRank = 4 };
        using var weight = GptqSolverTests.RandomWeight(16, 64, seed: 30);
        using var hessian = GptqSolverTests.CorrelatedHessian(64, seed: 31);

        var (_, without) = Round(weight, hessian, plain);
        var (linear, with) = Round(weight, hessian, lorc);

        Assert.Equal(4, linear.LorcRank);
        using var errorWithout = (weight - without).square().sum();
        using var errorWith = (weight - with).square().sum();
        Assert.True(errorWith.item<float>() < errorWithout.item<float>(), "LoRC did not lower the error of the GPTQ-rounded weight");
    }

    private static (Fp4Linear Linear, Tensor Stored) Round(Tensor weight, Tensor hessian, Fp4Spec spec)
    {
        var rounding = new Fp4GptqRounding(spec);
        var quantizer = rounding.QuantizerFor(weight);
        using var solution = GptqSolver.Solve(weight, hessian, quantizer,
            new GptqSolverSettings(spec.GroupSize, BlockSize: 16, ActOrder: true, StaticGroups: true));
        return rounding.Pack(solution, weight, quantizer);
    }

    /// <summary><c>tr((W − Q) H (W − Q)ᵀ)</c>: the layer's output error GPTQ minimises.</summary>
    private static double HessianWeightedError(Tensor weight, Tensor quantized, Tensor hessian)
    {
        using var delta = (weight - quantized).to(ScalarType.Float64);
        using var error = delta.matmul(hessian).mul(delta).sum();
        return error.item<double>();
    }

    private static float[] Floats(Tensor tensor) => tensor.to(ScalarType.Float32).contiguous().data<float>().ToArray();
}
