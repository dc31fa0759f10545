namespace Optimizer.Kernels.LowBit;

/// <summary>
/// One quantized row times one int8 activation row: <c>Σ_b sx[b] · sw[g(b)] · Σ_{k ∈ b} q[k]·x[k]</c> (the min term is
/// added by the driver). One struct per format and width, so the driver's loops are written once and the JIT
/// specializes them (the TensorPrimitives operator pattern).
/// </summary>
internal interface IRowDot
{
    /// <param name="row">The row's packed codes.</param>
    /// <param name="x">The activation row's int8 codes (padded length).</param>
    /// <param name="blockScales">The activation row's block scales.</param>
    /// <param name="groupScales">The weight row's group scales.</param>
    /// <param name="groupOfBlock">Weight group of each block.</param>
    static abstract float Dot(ReadOnlySpan<byte> row, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, ReadOnlySpan<int> groupOfBlock);
}
