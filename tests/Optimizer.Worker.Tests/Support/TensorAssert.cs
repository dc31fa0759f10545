using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Support;

public static class TensorAssert
{
    /// <summary>Same dtype, same shape, every element equal.</summary>
    public static void Equal(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        using var same = expected.eq(actual).all();
        Assert.True(same.item<bool>(), "tensors differ");
    }
}
