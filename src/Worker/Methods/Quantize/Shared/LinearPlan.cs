using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>Which tensors of a model a weight-only quantizer replaces and which it keeps.</summary>
/// <remarks>
/// Quantized: every 2-D floating-point <c>*.weight</c> inside the decoder layers (<c>*.layers.N.*</c>) — the
/// attention and MLP projections of Llama-family models — whose shape the method accepts (e.g. RTN's group size
/// must divide the input size). Kept in their dtype: embeddings, norms, <c>lm_head</c>, biases, and any layer
/// that does not fit (listed in <see cref="Skipped"/> so the job can say so).
/// </remarks>
public sealed record LinearPlan(IReadOnlyList<LinearTarget> Targets, IReadOnlyList<string> Kept, IReadOnlyList<string> Skipped)
{
    /// <param name="folder">The source model.</param>
    /// <param name="fits">Whether a candidate of shape <c>(out, in)</c> can be quantized by the method.</param>
    public static LinearPlan For(ModelFolder folder, Func<int, int, bool> fits)
    {
        var targets = new List<LinearTarget>();
        var kept = new List<string>();
        var skipped = new List<string>();
        foreach (var name in folder.TensorNames)
        {
            var entry = folder.GetEntry(name);
            if (!ModelFiles.IsDecoderLinear(name, entry))
            {
                kept.Add(name);
                continue;
            }
            var outFeatures = (int)entry.Shape[0];
            var inFeatures = (int)entry.Shape[1];
            if (fits(outFeatures, inFeatures))
            {
                targets.Add(new LinearTarget(name, name[..^".weight".Length], outFeatures, inFeatures, entry.Dtype));
            }
            else
            {
                kept.Add(name);
                skipped.Add(name);
            }
        }
        return new LinearPlan(targets, kept, skipped);
    }
}

/// <summary>One linear to quantize: its weight name, the prefix of its quantized tensors, and its shape.</summary>
public sealed record LinearTarget(string WeightName, string Prefix, int OutFeatures, int InFeatures, SafetensorsDtype Dtype);
