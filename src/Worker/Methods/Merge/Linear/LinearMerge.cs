using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Merge.Linear;

/// <summary>The linear merge of one tensor (mergekit <c>linear</c>): <c>Σ w_i x_i</c>, divided by <c>Σ w_i</c> when normalising.</summary>
public static class LinearMerge
{
    /// <exception cref="ArgumentException">Counts differ, or normalising weights that sum to zero.</exception>
    public static Tensor Combine(IReadOnlyList<Tensor> tensors, IReadOnlyList<double> weights, bool normalize)
    {
        if (tensors.Count == 0 || tensors.Count != weights.Count)
        {
            throw new ArgumentException($"{tensors.Count} tensors but {weights.Count} weights.");
        }
        var sum = weights.Sum();
        if (normalize && Math.Abs(sum) < 1e-12)
        {
            throw new ArgumentException("The weights sum to zero; a normalised linear merge is undefined.");
        }
        using var scope = torch.NewDisposeScope();
        var result = torch.zeros_like(tensors[0]);
        for (var i = 0; i < tensors.Count; i++)
        {
            result.add_(tensors[i], alpha: weights[i]);
        }
        if (normalize)
        {
            result.div_(sum);
        }
        return result.MoveToOuterDisposeScope();
    }
}
