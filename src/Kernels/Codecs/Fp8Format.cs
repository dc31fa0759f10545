namespace Optimizer.Kernels.Codecs;

/// <summary>The two OCP FP8 formats (ALGORITHMS.md 1.6 format table).</summary>
public enum Fp8Format
{
    /// <summary>E4M3 "fn": 1/4/3 bits, bias 7, max ±448, no infinities, NaN = S.1111.111.</summary>
    E4M3,

    /// <summary>E5M2: 1/5/2 bits, bias 15, max ±57344, IEEE-like infinities and NaNs.</summary>
    E5M2,
}
