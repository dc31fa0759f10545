using System.Text;

namespace Optimizer.Worker.Methods.Merge.Shared;

/// <summary>
/// Seeds of DARE's Bernoulli masks: one stream per (job seed, tensor name, model index), so a merge is reproducible
/// and a tensor's mask does not depend on the order tensors are written in.
/// </summary>
public static class MaskSeeds
{
    public static ulong For(long seed, string tensorName, int modelIndex)
    {
        // FNV-1a of the name (string.GetHashCode is randomised per process), then SplitMix64 to spread the bits.
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(tensorName))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return SplitMix(SplitMix(hash ^ (ulong)seed) + (ulong)modelIndex);
    }

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
