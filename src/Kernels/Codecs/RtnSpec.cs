namespace Optimizer.Kernels.Codecs;

/// <summary>Parameters of a round-to-nearest integer grid (ALGORITHMS.md 1.1).</summary>
/// <param name="Bits">Code width, 2 to 8.</param>
/// <param name="GroupSize">Input channels sharing one (scale, zero) pair; -1 means the whole row (per-channel).</param>
/// <param name="Symmetric">GPTQ-style symmetric grid: unsigned codes with the zero fixed at 2^(bits-1).</param>
public readonly record struct RtnSpec(int Bits, int GroupSize, bool Symmetric)
{
    public const int MinBits = 2;
    public const int MaxBits = 8;

    /// <summary>Largest code, <c>2^bits - 1</c>.</summary>
    public int MaxQ => (1 << Bits) - 1;

    /// <summary>Effective group size for a row of <paramref name="inFeatures"/> inputs.</summary>
    public int EffectiveGroupSize(int inFeatures) => GroupSize == -1 ? inFeatures : GroupSize;

    /// <summary>Number of groups per row of <paramref name="inFeatures"/> inputs.</summary>
    public int GroupCount(int inFeatures) => inFeatures / EffectiveGroupSize(inFeatures);

    /// <summary>Throws when the spec cannot quantize a row of <paramref name="inFeatures"/> inputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Bits outside 2..8, or a group size that is not -1 and does not divide the row.</exception>
    public void Validate(int inFeatures)
    {
        if (Bits is < MinBits or > MaxBits)
        {
            throw new ArgumentOutOfRangeException(nameof(Bits), Bits, $"bits must be between {MinBits} and {MaxBits}.");
        }
        if (inFeatures <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inFeatures), inFeatures, "a row needs at least one input.");
        }
        if (GroupSize != -1 && (GroupSize <= 0 || inFeatures % GroupSize != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(GroupSize), GroupSize,
                $"group size must be -1 or divide the input size {inFeatures}.");
        }
    }
}
