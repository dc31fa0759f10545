namespace Optimizer.Kernels.LowBit;

/// <summary>
/// How the input dimension of a quantized matrix is cut for the integer-dot kernels: activations are quantized to int8 in
/// blocks of <see cref="BlockSize"/> inputs, weights carry one (scale, min) pair per group, and a group is a whole number
/// of blocks. The input dimension is padded with zeros to <see cref="PaddedIn"/>; padded activations are 0, so padded
/// weights contribute nothing whatever their code.
/// </summary>
public sealed class BlockLayout
{
    /// <summary>Inputs per activation block (one int8 scale each) — llama.cpp's Q8_0 block, and one AVX2 register of int8.</summary>
    public const int BlockSize = 32;

    /// <param name="inFeatures">Inputs of the original matrix.</param>
    /// <param name="groupSize">Inputs sharing one weight scale; -1 = the whole row. Must be a multiple of <see cref="BlockSize"/> or the whole row.</param>
    /// <param name="padTo">The padded input dimension is a multiple of this (a multiple of <see cref="BlockSize"/>).</param>
    /// <param name="permutation">Input order the weights are stored in (act-order), or null for the natural order.</param>
    /// <exception cref="ArgumentOutOfRangeException">The sizes do not fit the rules above.</exception>
    public BlockLayout(int inFeatures, int groupSize, int padTo, int[]? permutation = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        if (padTo <= 0 || padTo % BlockSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(padTo), padTo, $"must be a positive multiple of {BlockSize}.");
        }
        var wholeRow = groupSize == -1 || groupSize == inFeatures;
        if (!wholeRow && (groupSize <= 0 || groupSize % BlockSize != 0 || inFeatures % groupSize != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize,
                $"must be -1, the row length, or a multiple of {BlockSize} that divides {inFeatures}.");
        }
        if (permutation is not null && permutation.Length != inFeatures)
        {
            throw new ArgumentOutOfRangeException(nameof(permutation), permutation.Length, $"must have {inFeatures} entries.");
        }
        InFeatures = inFeatures;
        PaddedIn = (inFeatures + padTo - 1) / padTo * padTo;
        Blocks = PaddedIn / BlockSize;
        Groups = wholeRow ? 1 : inFeatures / groupSize;
        GroupSize = wholeRow ? inFeatures : groupSize;
        Permutation = permutation;
        GroupOfBlock = new int[Blocks];
        for (var b = 0; b < Blocks; b++)
        {
            // A whole-row group also owns the padding blocks.
            GroupOfBlock[b] = wholeRow ? 0 : Math.Min(b * BlockSize / groupSize, Groups - 1);
        }
    }

    public int InFeatures { get; }

    /// <summary>The input dimension after zero padding.</summary>
    public int PaddedIn { get; }

    public int Blocks { get; }

    public int Groups { get; }

    /// <summary>Inputs per group (the whole row for per-channel).</summary>
    public int GroupSize { get; }

    /// <summary>Stored input k holds original input <c>Permutation[k]</c>; null = identity.</summary>
    public int[]? Permutation { get; }

    /// <summary>Weight group of each activation block: a table so the hot loop never divides.</summary>
    public int[] GroupOfBlock { get; }
}
