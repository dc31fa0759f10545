using Optimizer.Worker.Methods.Prune;
using Optimizer.Worker.Methods.Prune.Magnitude;
using Optimizer.Worker.Methods.Prune.SparseGpt;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Prune;

/// <summary>ALGORITHMS.md Part C 2.3 invariants of SparseGPT's OBS prune-and-compensate loop.</summary>
public sealed class SparseGptSolverTests
{
    [Theory]
    [InlineData(0.5, 128)]
    [InlineData(0.7, 64)]
    [InlineData(0.3, 100)]
    public void Prune_EqualsBlockwiseMagnitude_WhenHessianIsIdentity(double sparsity, int blockSize)
    {
        torch.manual_seed(17);
        using var weight = torch.randn(24, 256);
        using var expected = weight.clone();
        using var identity = torch.eye(256);
        var spec = new PruneSpec(sparsity, 0, 0);

        SparseGptSolver.Prune(weight, identity, spec, blockSize);

        // Blockwise magnitude: each block of columns is one comparison group; surviving weights keep their value.
        for (long start = 0; start < 256; start += blockSize)
        {
            var count = Math.Min(blockSize, 256 - start);
            using var block = expected.narrow(1, start, count);
            MagnitudePipeline.Prune(block, spec);
        }
        TensorAssert.Equal(expected, weight);
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(4, 8)]
    public void Prune_LeavesAtMostNNonZerosPerGroup_WithACorrelatedHessian(int n, int m)
    {
        using var hessian = CorrelatedHessian(64, seed: 5, out _);
        torch.manual_seed(6);
        using var weight = torch.randn(16, 64);

        SparseGptSolver.Prune(weight, hessian, new PruneSpec(1.0 - (double)n / m, n, m), blockSize: 30);

        using var perGroup = weight.ne(0).reshape(16, 64 / m, m).sum(-1);
        Assert.True(perGroup.max().item<long>() <= n, $"a group of {m} holds more than {n} non-zeros");
    }

    [Fact]
    public void Prune_HitsTargetPerBlock_WithACorrelatedHessian()
    {
        using var hessian = CorrelatedHessian(256, seed: 8, out _);
        torch.manual_seed(9);
        using var weight = torch.randn(32, 256);

        SparseGptSolver.Prune(weight, hessian, new PruneSpec(0.6, 0, 0), blockSize: 128);

        for (var start = 0; start < 256; start += 128)
        {
            using var zeros = weight.narrow(1, start, 128).eq(0).sum();
            Assert.Equal((long)Math.Floor(32 * 128 * 0.6), zeros.item<long>());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Prune_ReconstructsOutputsBetterThanMagnitude_OnCorrelatedInputs(int seed)
    {
        using var hessian = CorrelatedHessian(128, seed, out var inputs);
        torch.manual_seed(seed + 100);
        using var weight = torch.randn(32, 128);
        using var sparse = weight.clone();
        using var magnitude = weight.clone();
        var spec = new PruneSpec(0.5, 0, 0);

        SparseGptSolver.Prune(sparse, hessian, spec);
        MagnitudePipeline.Prune(magnitude, spec);

        using var reference = weight.matmul(inputs);
        var sparseError = (sparse.matmul(inputs) - reference).norm().item<float>();
        var magnitudeError = (magnitude.matmul(inputs) - reference).norm().item<float>();
        Assert.True(sparseError < magnitudeError, $"SparseGPT error {sparseError} is not below magnitude's {magnitudeError}");
        inputs.Dispose();
    }

    [Fact]
    public void Prune_ZeroesDeadColumns()
    {
        using var hessian = CorrelatedHessian(32, seed: 4, out _);
        hessian[3, ..] = torch.zeros(32);
        hessian[.., 3] = torch.zeros(32);
        using var weight = torch.ones(4, 32);

        SparseGptSolver.Prune(weight, hessian, new PruneSpec(0.1, 0, 0));

        using var dead = weight[.., 3].abs().sum();
        Assert.Equal(0f, dead.item<float>());
    }

    /// <summary>(2/N)·X Xᵀ for N = 512 correlated inputs X [in, N] (a random mixing of Gaussian features).</summary>
    private static Tensor CorrelatedHessian(int size, int seed, out Tensor inputs)
    {
        torch.manual_seed(seed);
        using var mixing = torch.randn(size, size) / Math.Sqrt(size) + torch.eye(size);
        using var raw = torch.randn(size, 512);
        inputs = mixing.matmul(raw);
        return inputs.matmul(inputs.mT) * (2.0 / 512);
    }
}
