using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Optimizer.Kernels.LowBit;

/// <summary>The float each block's integer dot is multiplied by: activation block scale times the weight group's scale.</summary>
internal static class BlockScales
{
    /// <summary>
    /// <c>combined[j] = sx[start + j] · sw[g(start + j)]</c> for <c>combined.Length</c> blocks; 8 at a time when every block
    /// is its own group (groups of 32, no padding block).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Combine(ReadOnlySpan<float> blockScales, ReadOnlySpan<float> groupScales, BlockLayout layout, int start,
        Span<float> combined)
    {
        var j = 0;
        if (layout.Blocks == layout.Groups && Vector256.IsHardwareAccelerated)
        {
            ref var sx = ref MemoryMarshal.GetReference(blockScales.Slice(start, combined.Length));
            ref var sw = ref MemoryMarshal.GetReference(groupScales.Slice(start, combined.Length));
            ref var destination = ref MemoryMarshal.GetReference(combined);
            for (; j + Vector256<float>.Count <= combined.Length; j += Vector256<float>.Count)
            {
                (Vector256.LoadUnsafe(ref sx, (nuint)j) * Vector256.LoadUnsafe(ref sw, (nuint)j)).StoreUnsafe(ref destination, (nuint)j);
            }
        }
        for (; j < combined.Length; j++)
        {
            combined[j] = blockScales[start + j] * groupScales[layout.GroupOfBlock[start + j]];
        }
    }
}
