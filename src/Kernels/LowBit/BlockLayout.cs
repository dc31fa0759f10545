namespace Optimizer.Kernels.LowBit;

/// <summary>
/// How the input dimension of a quantized matrix is cut for the integer-dot kernels: activations are quantized to int8 in
/// blocks of <see cref="BlockSize"/> inputs, weights carry one (scale, min) pair per group, and every block lies in one
/// group — so a block's integer dot needs one float multiply-add, whatever its length. The input dimension is padded with
/// zeros to a whole number of blocks; padded activations are 0, so padded weights contribute nothing whatever their code.
/// </summary>
public sealed class BlockLayout
{
    /// <summary>The longest activation block: 128 int8 values share one scale (precision vs. one fp32 step per block).</summary>
    public const int MaxBlockSize = 128;

    /// <param name="inFeatures">Inputs of the original matrix.</param>
    /// <param name="groupSize">Inputs sharing one weight scale; -1 = the whole row. Must be a multiple of <paramref name="unit"/> or the whole row.</param>
    /// <param name="unit">Inputs one step of the kernel consumes (32 for int8, 64 for int4): blocks are multiples of it.</param>
    /// <param name="permutation">Input order the weights are stored in (act-order), or null for the natural order.</param>
    /// <param name="padTo">The padded input dimension is also a multiple of this (the packing's chunk), if given.</param>
    /// <exception cref="ArgumentOutOfRangeException">The sizes do not fit the rules above.</exception>
    public BlockLayout(int inFeatures, int groupSize, int unit, int[]? permutation = null, int padTo = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        if (unit <= 0 || MaxBlockSize % unit != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(unit), unit, $"must divide {MaxBlockSize}.");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(padTo);
        var wholeRow = groupSize == -1 || groupSize == inFeatures;
        if (!wholeRow && (groupSize <= 0 || groupSize % unit != 0 || inFeatures % groupSize != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize,
                $"must be -1, the row length, or a multiple of {unit} that divides {inFeatures}.");
        }
        if (permutation is not null && permutation.Length != inFeatures)
        {
            throw new ArgumentOutOfRangeException(nameof(permutation), permutation.Length, $"must have {inFeatures} entries.");
        }
        InFeatures = inFeatures;
        // The largest block that divides the group (groups are multiples of the unit, and the unit divides 128).
        BlockSize = wholeRow ? MaxBlockSize : Gcd(groupSize, MaxBlockSize);
        var multiple = BlockSize * padTo / Gcd(BlockSize, padTo);
        PaddedIn = (inFeatures + multiple - 1) / multiple * multiple;
        Blocks = PaddedIn / BlockSize;
        Groups = wholeRow ? 1 : inFeatures / groupSize;
        GroupSize = wholeRow ? inFeatures : groupSize;
        Permutation = permutation;
        GroupOfBlock = new int[Blocks];
        for (var b = 0; b < Blocks; b++)
        {
            // The last group also owns the padding (whose activations are zero).
            GroupOfBlock[b] = wholeRow ? 0 : Math.Min(b * BlockSize / groupSize, Groups - 1);
        }
    }

    /// <summary>Inputs per activation block (one int8 scale each); divides the group size.</summary>
    public int BlockSize { get; }

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

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
