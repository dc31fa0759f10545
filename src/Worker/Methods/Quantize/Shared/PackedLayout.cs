using System.Diagnostics.CodeAnalysis;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

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

    /// <summary>
    /// The body of a packed reader's <see cref="IPackedWeightReader.TryRead"/>: when the folder's method is
    /// <paramref name="quantMethod"/> and it stores <paramref name="firstTensor"/> (and <paramref name="otherTensors"/>) for
    /// this linear, reads it with <paramref name="read"/> and returns the dense float32 <c>[out, in]</c> weight.
    /// </summary>
    public static bool TryReadDense(ModelFolder folder, string weightName, string quantMethod, Func<ModelFolder, string, IDenseLinear> read,
        [NotNullWhen(true)] out Tensor? weight, string firstTensor, params string[] otherTensors)
    {
        weight = null;
        if (!TryGetPrefix(folder, weightName, quantMethod, out var prefix)
            || !folder.ContainsTensor(prefix + firstTensor) || otherTensors.Any(t => !folder.ContainsTensor(prefix + t)))
        {
            return false;
        }
        var linear = read(folder, prefix);
        weight = torch.tensor(linear.Dequantize(), [linear.OutFeatures, linear.InFeatures], ScalarType.Float32);
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
