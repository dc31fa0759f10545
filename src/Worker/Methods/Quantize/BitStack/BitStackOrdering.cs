namespace Optimizer.Worker.Methods.Quantize.BitStack;

/// <summary>
/// The importance order of blocks beyond the first (ALGORITHMS.md 1.8, step 2), with a cheaper score than the paper's.
/// </summary>
/// <remarks>
/// [interp] BitStack ranks, at each level b, every linear by the perplexity of the model when that linear alone gets block
/// b + 1, which costs (blocks − 1) × linears perplexity evaluations. Here the score is the relative reconstruction gain of
/// that block, <c>(e_b − e_{b+1}) / e_0</c> with <c>e_b = ‖W − Ŵ(b)‖²</c>, computed during the decomposition for free.
/// The order keeps the paper's structure: levels in increasing order, and within a level the most useful block first.
/// </remarks>
public static class BitStackOrdering
{
    /// <param name="squaredErrors">Per linear, <c>e_0 … e_blocks</c>.</param>
    /// <param name="blocks">Blocks per linear.</param>
    /// <returns>Linear indices; step j adds one block to linear <c>order[j]</c>.</returns>
    public static IReadOnlyList<int> Order(IReadOnlyList<IReadOnlyList<double>> squaredErrors, int blocks)
    {
        var order = new List<int>(squaredErrors.Count * (blocks - 1));
        for (var level = 1; level < blocks; level++)
        {
            order.AddRange(Enumerable.Range(0, squaredErrors.Count)
                .OrderByDescending(l => Gain(squaredErrors[l], level))
                .ThenBy(l => l));
        }
        return order;
    }

    private static double Gain(IReadOnlyList<double> errors, int level) =>
        errors[0] > 0 ? (errors[level] - errors[level + 1]) / errors[0] : 0;
}
