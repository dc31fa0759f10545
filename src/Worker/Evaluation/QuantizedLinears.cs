using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Evaluation;

/// <summary>
/// The linears a safetensors header stores quantized, by module prefix, with their original shape: every format the
/// worker writes (GPTQ / AWQ int packing, FP8, FP4, trit-planes, BitStack; docs/formats/). A linear's stored bytes are
/// all its non-bias tensors under <c>prefix.</c> — what the quantize jobs' <c>bits_per_weight</c> metric counts.
/// </summary>
public static class QuantizedLinears
{
    /// <summary>One quantized linear.</summary>
    /// <param name="OutFeatures">Rows of the original weight.</param>
    /// <param name="InFeatures">Columns of the original weight.</param>
    /// <param name="SizeSetByBits">
    /// True when its size is codes of the nominal bit width plus group scales (int packing, FP8, FP4 without LoRC); false for
    /// layouts sized by their own structure (LoRC factors, two trit planes, BitStack blocks).
    /// </param>
    public sealed record Linear(long OutFeatures, long InFeatures, bool SizeSetByBits);

    /// <param name="tensors">The header's tensors.</param>
    /// <param name="bits">The int packing's bit width (from the model record), null when the model is not int-packed.</param>
    /// <param name="readInt32s">Reads a small I32 tensor's values (the trit-plane <c>weight_shape</c>).</param>
    public static Dictionary<string, Linear> Find(IReadOnlyList<TensorEntry> tensors, int? bits, Func<TensorEntry, int[]> readInt32s)
    {
        var byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var linears = new Dictionary<string, Linear>(StringComparer.Ordinal);
        foreach (var tensor in tensors.Where(t => t.Shape.Length is 1 or 2))
        {
            var shape = tensor.Shape;
            if (Strip(tensor.Name, ".qweight") is { } gptq && bits is { } b && shape.Length == 2)
            {
                // GPTQ [in/pack, out] and AWQ [in, out/pack] hold in·out·bits/32 int32 words; scales [in/g, out] give out.
                var weights = tensor.ElementCount * 32 / b;
                var outFeatures = byName.TryGetValue(gptq + ".scales", out var scales) && scales.Shape.Length == 2 ? scales.Shape[1] : shape[1];
                linears[gptq] = new Linear(outFeatures, weights / outFeatures, true);
            }
            else if (Strip(tensor.Name, ".weight") is { } fp8 && tensor.Dtype.IsFp8() && shape.Length == 2
                && byName.ContainsKey(tensor.Name + "_scale"))
            {
                linears[fp8] = new Linear(shape[0], shape[1], true);
            }
            else if (Strip(tensor.Name, ".weight_packed") is { } fp4 && tensor.Dtype == SafetensorsDtype.U8 && shape.Length == 2
                && byName.ContainsKey(fp4 + ".weight_scale"))
            {
                linears[fp4] = new Linear(shape[0], shape[1] * 2, !byName.ContainsKey(fp4 + ".weight_lorc_u"));
            }
            else if (Strip(tensor.Name, ".weight_trits1") is { } trits && byName.TryGetValue(trits + ".weight_shape", out var stored)
                && readInt32s(stored) is [var outFeatures, var inFeatures])
            {
                linears[trits] = new Linear(outFeatures, inFeatures, false);
            }
            else if (Strip(tensor.Name, ".bitstack.0.u") is { } stack && shape.Length == 2
                && byName.TryGetValue(stack + ".bitstack.0.v", out var v) && v.Shape.Length == 2)
            {
                linears[stack] = new Linear(shape[0], v.Shape[1], false);
            }
        }
        return linears;
    }

    /// <summary>The quantized linear <paramref name="name"/> belongs to (a non-bias tensor under its prefix), if any.</summary>
    public static string? OwnerOf(string name, IReadOnlyDictionary<string, Linear> linears)
    {
        if (name.EndsWith(".bias", StringComparison.Ordinal))
        {
            return null;
        }
        // Longest prefix first: BitStack nests its blocks (<prefix>.bitstack.<i>.u).
        for (var dot = name.LastIndexOf('.'); dot > 0; dot = name.LastIndexOf('.', dot - 1))
        {
            if (linears.ContainsKey(name[..dot]))
            {
                return name[..dot];
            }
        }
        return null;
    }

    private static string? Strip(string name, string suffix) =>
        name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > suffix.Length ? name[..^suffix.Length] : null;
}
