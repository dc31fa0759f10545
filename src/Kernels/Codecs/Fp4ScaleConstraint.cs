namespace Optimizer.Kernels.Codecs;

/// <summary>How FP4 group scales are constrained (ZeroQuant-FP, ALGORITHMS.md 1.6).</summary>
public enum Fp4ScaleConstraint
{
    /// <summary>Real-valued <c>absmax / 6</c> per group.</summary>
    None,

    /// <summary>M1: each group scale rounded up to a power of two, <c>2^ceil(log2 s)</c>.</summary>
    Pow2,

    /// <summary>M2: one real scale per row, <c>S_row = max_g s_g</c>, times a power-of-two fraction <c>2^-k_g</c> per group.</summary>
    RowPow2,
}
