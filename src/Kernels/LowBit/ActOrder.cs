namespace Optimizer.Kernels.LowBit;

/// <summary>Turns a GPTQ <c>g_idx</c> into the input order that makes every group contiguous.</summary>
internal static class ActOrder
{
    /// <summary>
    /// Null when <paramref name="gIdx"/> is null or already <c>i / groupSize</c>; otherwise the stable sort of the inputs
    /// by group, checked to give every group exactly <paramref name="groupSize"/> inputs (what GPTQ's act-order produces).
    /// </summary>
    /// <exception cref="ArgumentException">g_idx has the wrong length, or its groups are not all of groupSize inputs.</exception>
    public static int[]? Permutation(int[]? gIdx, int inFeatures, int groupSize)
    {
        if (gIdx is null || groupSize == -1 || groupSize == inFeatures)
        {
            return null;
        }
        if (gIdx.Length != inFeatures)
        {
            throw new ArgumentException($"g_idx has {gIdx.Length} entries; the matrix has {inFeatures} inputs.", nameof(gIdx));
        }
        var natural = true;
        for (var i = 0; i < inFeatures && natural; i++)
        {
            natural = gIdx[i] == i / groupSize;
        }
        if (natural)
        {
            return null;
        }
        var order = Enumerable.Range(0, inFeatures).OrderBy(i => gIdx[i]).ToArray();
        for (var k = 0; k < inFeatures; k++)
        {
            if (gIdx[order[k]] != k / groupSize)
            {
                throw new ArgumentException($"g_idx group {gIdx[order[k]]} does not hold exactly {groupSize} inputs.", nameof(gIdx));
            }
        }
        return order;
    }
}
