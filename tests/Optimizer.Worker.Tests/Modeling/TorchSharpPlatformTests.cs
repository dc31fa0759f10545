using TorchSharp;

namespace Optimizer.Worker.Tests.Modeling;

/// <summary>
/// Guards the build step that makes TorchSharp's native library load on Debian 12
/// (build/LibTorchSharpGlibcxxPatch.targets): if the patch is missing, the first torch call throws.
/// </summary>
public sealed class TorchSharpPlatformTests
{
    [Fact]
    public void MatMul_ReturnsExpectedProduct_WhenNativeLibraryLoadsInTestHost()
    {
        using var a = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, new long[] { 2, 3 });
        using var b = torch.tensor(new float[] { 7, 8, 9, 10, 11, 12 }, new long[] { 3, 2 });

        using var product = torch.matmul(a, b);

        Assert.Equal(new long[] { 2, 2 }, product.shape);
        Assert.Equal(new float[] { 58, 64, 139, 154 }, product.data<float>().ToArray());
    }

    [Fact]
    public void Softmax_SumsToOne_WhenComputedByLibTorch()
    {
        using var logits = torch.arange(10, dtype: torch.float32).reshape(2, 5);

        using var probabilities = torch.softmax(logits, dim: 1);
        using var sums = probabilities.sum(1);

        Assert.All(sums.data<float>().ToArray(), s => Assert.Equal(1f, s, 1e-6f));
    }
}
