using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>Bits per weight of the quantized layers as written: every tensor under a target's prefix, over its weight count.</summary>
public static class StoredBits
{
    public static double PerWeight(string outputDir, IReadOnlyList<LinearTarget> targets)
    {
        using var output = ModelFolder.Open(outputDir);
        var prefixes = targets.Select(t => t.Prefix + ".").ToList();
        var bytes = output.TensorNames
            .Where(n => prefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)) && !n.EndsWith(".bias", StringComparison.Ordinal))
            .Sum(n => output.GetEntry(n).ByteLength);
        var weights = targets.Sum(t => (long)t.OutFeatures * t.InFeatures);
        return weights == 0 ? 0 : 8.0 * bytes / weights;
    }
}
