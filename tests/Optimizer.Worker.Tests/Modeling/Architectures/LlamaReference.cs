using System.Runtime.InteropServices;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Tests.Modeling.Architectures;

/// <summary>
/// Llama forward pass written from the formulas with plain double loops, reading weights straight from a
/// saved model.safetensors: an oracle that shares no code with the TorchSharp modules.
/// </summary>
internal sealed class LlamaReference(LlamaConfig config, SafetensorsFile weights)
{
    private double[] W(string name) => MemoryMarshal.Cast<byte, float>(weights.GetBytes(name)).ToArray().Select(v => (double)v).ToArray();

    /// <summary>Logits [T][vocab] for one sequence.</summary>
    public double[][] Forward(long[] tokens)
    {
        int hidden = config.HiddenSize, heads = config.NumAttentionHeads, kvHeads = config.NumKeyValueHeads, d = config.HeadDim;
        var embed = W("model.embed_tokens.weight");
        var h = tokens.Select(t => embed.AsSpan((int)t * hidden, hidden).ToArray()).ToArray();
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            var p = $"model.layers.{layer}.";
            var x = h.Select(row => RmsNorm(row, W(p + "input_layernorm.weight"))).ToArray();
            var q = x.Select(row => MatVec(W(p + "self_attn.q_proj.weight"), row, heads * d)).ToArray();
            var k = x.Select(row => MatVec(W(p + "self_attn.k_proj.weight"), row, kvHeads * d)).ToArray();
            var v = x.Select(row => MatVec(W(p + "self_attn.v_proj.weight"), row, kvHeads * d)).ToArray();
            for (var t = 0; t < q.Length; t++)
            {
                RopeAt(q[t], t);
                RopeAt(k[t], t);
            }
            var attention = new double[h.Length][];
            for (var t = 0; t < h.Length; t++)
            {
                attention[t] = new double[heads * d];
                for (var head = 0; head < heads; head++)
                {
                    var kvHead = head / (heads / kvHeads);
                    var scores = new double[t + 1];
                    for (var s = 0; s <= t; s++)
                    {
                        for (var i = 0; i < d; i++)
                        {
                            scores[s] += q[t][head * d + i] * k[s][kvHead * d + i];
                        }
                        scores[s] /= Math.Sqrt(d);
                    }
                    var max = scores.Max();
                    var exp = scores.Select(s => Math.Exp(s - max)).ToArray();
                    var sum = exp.Sum();
                    for (var s = 0; s <= t; s++)
                    {
                        for (var i = 0; i < d; i++)
                        {
                            attention[t][head * d + i] += exp[s] / sum * v[s][kvHead * d + i];
                        }
                    }
                }
            }
            var wo = W(p + "self_attn.o_proj.weight");
            h = h.Select((row, t) => Add(row, MatVec(wo, attention[t], hidden))).ToArray();
            var post = h.Select(row => RmsNorm(row, W(p + "post_attention_layernorm.weight"))).ToArray();
            var (wg, wu, wd) = (W(p + "mlp.gate_proj.weight"), W(p + "mlp.up_proj.weight"), W(p + "mlp.down_proj.weight"));
            h = h.Select((row, t) =>
            {
                var gate = MatVec(wg, post[t], config.IntermediateSize);
                var up = MatVec(wu, post[t], config.IntermediateSize);
                var act = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
                return Add(row, MatVec(wd, act, hidden));
            }).ToArray();
        }
        var output = config.TieWordEmbeddings ? embed : W("lm_head.weight");
        var norm = W("model.norm.weight");
        return h.Select(row => MatVec(output, RmsNorm(row, norm), config.VocabSize)).ToArray();
    }

    private double[] RmsNorm(double[] x, double[] weight)
    {
        var meanSquare = x.Select(v => v * v).Average();
        var scale = 1 / Math.Sqrt(meanSquare + config.RmsNormEps);
        return x.Select((v, i) => v * scale * weight[i]).ToArray();
    }

    /// <summary>Rows of <paramref name="matrix"/> [outputs, in] dotted with <paramref name="x"/>.</summary>
    private static double[] MatVec(double[] matrix, double[] x, int outputs)
    {
        var y = new double[outputs];
        for (var o = 0; o < outputs; o++)
        {
            for (var i = 0; i < x.Length; i++)
            {
                y[o] += matrix[o * x.Length + i] * x[i];
            }
        }
        return y;
    }

    private static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();

    /// <summary>Rotates each head's pairs (i, i + d/2) by angle position * theta^(-2i/d) in place.</summary>
    private void RopeAt(double[] x, int position)
    {
        var d = config.HeadDim;
        for (var start = 0; start < x.Length; start += d)
        {
            for (var i = 0; i < d / 2; i++)
            {
                var angle = position * Math.Pow(config.RopeTheta, -2.0 * i / d);
                var (a, b) = (x[start + i], x[start + i + d / 2]);
                x[start + i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                x[start + i + d / 2] = b * Math.Cos(angle) + a * Math.Sin(angle);
            }
        }
    }
}
