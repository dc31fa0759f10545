using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Rtn;

/// <summary>Which tensors of a model RTN quantizes and which it keeps.</summary>
/// <remarks>
/// Quantized: every 2-D floating-point <c>*.weight</c> inside the decoder layers (<c>*.layers.N.*</c>) — the
/// attention and MLP projections of Llama-family models — whose shape fits the grid (group size divides the input
/// size; the bit stream ends on a word boundary). Kept in their dtype: embeddings, norms, <c>lm_head</c>,
/// biases, and any layer that does not fit (listed in <see cref="Skipped"/> so the job can say so).
/// </remarks>
public sealed record RtnPlan(IReadOnlyList<RtnTarget> Targets, IReadOnlyList<string> Kept, IReadOnlyList<string> Skipped)
{
    public static RtnPlan For(ModelFolder folder, RtnSpec spec)
    {
        var targets = new List<RtnTarget>();
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
            if (GptqLinear.Supports(outFeatures, inFeatures, spec))
            {
                targets.Add(new RtnTarget(name, name[..^".weight".Length], outFeatures, inFeatures, entry.Dtype));
            }
            else
            {
                kept.Add(name);
                skipped.Add(name);
            }
        }
        return new RtnPlan(targets, kept, skipped);
    }
}

/// <summary>One linear to quantize: its weight name, the prefix of its packed tensors, and its shape.</summary>
public sealed record RtnTarget(string WeightName, string Prefix, int OutFeatures, int InFeatures, SafetensorsDtype Dtype);
