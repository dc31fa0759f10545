namespace Optimizer.Kernels.LowBit;

/// <summary>
/// One quantized weight row times activation rows: <c>Σ_b sx[b] · sw[g(b)] · Σ_{k ∈ b} q[k]·x[k]</c> (the min term is added
/// by the driver). One struct per format and width, so the driver's loops are written once and the JIT specializes them
/// (the TensorPrimitives operator pattern). <see cref="Dot4"/> decodes each weight step once for four activation rows:
/// at batch 8 the decode is a quarter of the work it would be row by row.
/// </summary>
internal interface IRowDot
{
    /// <param name="weights">The row's packed codes.</param>
    /// <param name="x">The activation row's int8 codes (padded length).</param>
    /// <param name="blockScales">The activation row's block scales.</param>
    /// <param name="groupScales">The weight row's group scales.</param>
    /// <param name="layout">Block size and the weight group of each block.</param>
    static abstract float Dot1(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout);

    /// <summary>Four activation rows at once: <paramref name="x"/> and <paramref name="blockScales"/> hold four consecutive rows.</summary>
    static abstract void Dot4(ReadOnlySpan<byte> weights, ReadOnlySpan<sbyte> x, ReadOnlySpan<float> blockScales,
        ReadOnlySpan<float> groupScales, BlockLayout layout, Span<float> results);
}
