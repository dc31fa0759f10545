using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>Small pieces the FP4, trit-plane and BitStack writers and readers share.</summary>
public static class PackedLayout
{
    /// <summary>
    /// The module prefix of <paramref name="weightName"/> (<c>x.weight</c> → <c>x</c>) when the folder's
    /// <c>quantization_config.quant_method</c> is <paramref name="quantMethod"/>: the first check of every packed reader.
    /// </summary>
    public static bool TryGetPrefix(ModelFolder folder, string weightName, string quantMethod, out string prefix)
    {
        prefix = "";
        if (!weightName.EndsWith(".weight", StringComparison.Ordinal)
            || folder.Config.QuantizationConfig?["quant_method"]?.GetValue<string>() != quantMethod)
        {
            return false;
        }
        prefix = weightName[..^".weight".Length];
        return true;
    }

    /// <summary>Adds every tensor the plan keeps, as stored in the source, to <paramref name="writer"/>.</summary>
    public static void AddKept(SafetensorsWriter writer, ModelFolder folder, LinearPlan plan)
    {
        foreach (var name in plan.Kept)
        {
            var entry = folder.GetEntry(name);
            writer.Add(name, entry.Dtype, entry.Shape, () => folder.ReadTensor(name));
        }
    }
}
