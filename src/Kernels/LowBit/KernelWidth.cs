using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>The SIMD width a kernel runs at. Tests pass each width the machine has explicitly, so every path is reached.</summary>
/// <remarks>
/// There is no 512-bit path: the integer dot needs <c>vpmaddubsw</c> (AVX-512BW) and the development and CI machines
/// (AMD EPYC, AVX2) cannot run or test one; on AVX-512 machines the 256-bit path runs.
/// </remarks>
public enum KernelWidth
{
    /// <summary>Plain C#: the reference implementation and the test oracle.</summary>
    Scalar = 0,

    /// <summary>SSSE3 (<c>pmaddubsw</c>).</summary>
    Vector128 = 128,

    /// <summary>AVX2 (<c>vpmaddubsw</c>) with FMA.</summary>
    Vector256 = 256,
}

/// <summary>Which <see cref="KernelWidth"/>s this machine runs.</summary>
public static class KernelWidths
{
    /// <summary>The widest supported width: what the kernels use unless told otherwise.</summary>
    public static KernelWidth Best =>
        Avx2.IsSupported && Fma.IsSupported ? KernelWidth.Vector256
        : Ssse3.IsSupported ? KernelWidth.Vector128
        : KernelWidth.Scalar;

    /// <summary>Every width this machine can run, narrowest first.</summary>
    public static IReadOnlyList<KernelWidth> Supported =>
        [.. Enum.GetValues<KernelWidth>().Where(w => w <= Best)];
}
