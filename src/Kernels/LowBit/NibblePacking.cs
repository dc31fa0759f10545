namespace Optimizer.Kernels.LowBit;

/// <summary>
/// The in-memory layout of 4-bit codes for the kernels (ours; checkpoints keep their own formats): each row is
/// <c>PaddedIn / 2</c> bytes; chunk <c>c</c> of 64 inputs is 32 bytes whose byte <c>j</c> holds input <c>64c + j</c> in its
/// low nibble and <c>64c + 32 + j</c> in its high nibble — one AVX2 load, a mask and a shift give two runs of 32 codes
/// that line up with 32 consecutive activations each (llama.cpp's Q4_0 trick, widened to a 256-bit register).
/// </summary>
public static class NibblePacking
{
    /// <summary>Inputs per packed chunk (32 bytes); rows are padded to whole chunks.</summary>
    public const int ChunkInputs = 64;

    /// <summary>Inputs per run of one nibble half: the smallest group the kernels take.</summary>
    public const int Unit = 32;

    /// <summary>
    /// Packs codes <c>[out, in]</c> (0..15) into rows of <c>layout.PaddedIn / 2</c> bytes, reading input
    /// <c>layout.Permutation[k]</c> for stored input k; padding codes are 0.
    /// </summary>
    /// <exception cref="ArgumentException">A code exceeds 15.</exception>
    public static byte[] Pack(ReadOnlySpan<byte> codes, int outFeatures, BlockLayout layout)
    {
        var inFeatures = layout.InFeatures;
        var rowBytes = layout.PaddedIn / 2;
        var packed = new byte[(long)outFeatures * rowBytes];
        for (var o = 0; o < outFeatures; o++)
        {
            var row = codes.Slice(o * inFeatures, inFeatures);
            for (var k = 0; k < inFeatures; k++)
            {
                var code = row[layout.Permutation is null ? k : layout.Permutation[k]];
                if (code > 15)
                {
                    throw new ArgumentException($"code {code} at [{o}, {k}] does not fit 4 bits.", nameof(codes));
                }
                var within = k % ChunkInputs;
                packed[o * rowBytes + k / ChunkInputs * 32 + within % 32] |= (byte)(within < 32 ? code : code << 4);
            }
        }
        return packed;
    }

    /// <summary>The code of stored input <paramref name="k"/> in one packed row.</summary>
    public static int CodeAt(ReadOnlySpan<byte> row, int k)
    {
        var within = k % ChunkInputs;
        var value = row[k / ChunkInputs * 32 + within % 32];
        return within < 32 ? value & 0xF : value >> 4;
    }
}
