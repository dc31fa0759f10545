namespace Optimizer.Kernels.LowBit;

/// <summary>
/// GPTQ and AWQ checkpoints store codes <c>[in, out]</c> and scales and zeros <c>[groups, out]</c>; the kernels' packers take
/// them row-major, <c>[out, in]</c> and <c>[out, groups]</c>.
/// </summary>
internal static class CheckpointLayout
{
    /// <summary>Transposes unpacked checkpoint codes, scales and zeros to the row-major layout the packers take.</summary>
    public static (byte[] Codes, float[] Scales, int[] Zeros) ToRowMajor(ReadOnlySpan<int> codesT, ReadOnlySpan<Half> scalesT,
        ReadOnlySpan<int> zerosT, int outFeatures, int inFeatures, int groups)
    {
        var codes = new byte[(long)outFeatures * inFeatures];
        for (var r = 0; r < inFeatures; r++)
        {
            for (var c = 0; c < outFeatures; c++)
            {
                codes[(long)c * inFeatures + r] = (byte)codesT[r * outFeatures + c];
            }
        }
        var scales = new float[outFeatures * groups];
        var zeros = new int[outFeatures * groups];
        for (var group = 0; group < groups; group++)
        {
            for (var c = 0; c < outFeatures; c++)
            {
                scales[c * groups + group] = (float)scalesT[group * outFeatures + c];
                zeros[c * groups + group] = zerosT[group * outFeatures + c];
            }
        }
        return (codes, scales, zeros);
    }
}
