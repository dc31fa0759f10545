using Optimizer.Worker.Calibration;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Awq;

/// <summary>AWQ's two searches (ALGORITHMS.md 1.5): the activation-aware scale per group and the clipping range per linear.</summary>
public static class AwqSearch
{
    /// <summary>
    /// Tries <c>s = clamp(s_x^r, 1e−4) / sqrt(max·min)</c> for <c>r = 0, 1/grid, …, (grid−1)/grid</c> (ratio 0 is RTN) and
    /// returns the s whose quantized weights best reproduce the inspected module's output; the weights are restored.
    /// </summary>
    /// <param name="layer">The block (full precision).</param>
    /// <param name="input">Which group.</param>
    /// <param name="inputs">The group's inputs, one <c>[B, T, in]</c> tensor per batch.</param>
    /// <param name="quantizer">The grid.</param>
    /// <param name="grid">Number of ratios tried (20).</param>
    /// <param name="cos">Rotary table.</param>
    /// <param name="sin">Rotary table.</param>
    /// <returns>The scales <c>[in]</c> (detached; the caller disposes them) and the best loss.</returns>
    public static (Tensor Scales, double Loss) Scales(LlamaDecoderLayer layer, BlockInput input, IReadOnlyList<Tensor> inputs,
        AwqQuantizer quantizer, int grid, Tensor cos, Tensor sin)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var linears = AwqScaling.Scaled(layer, input);
        var originals = linears.Select(l => l.weight!.clone()).ToList();
        var features = inputs[0].shape[^1];
        var magnitude = inputs.Select(x => x.abs().reshape(-1, features).sum(0L)).Aggregate((a, b) => a + b)
            / inputs.Sum(x => x.numel() / features);
        var reference = inputs.Select(x => AwqScaling.Inspect(layer, input, x, cos, sin)).ToList();
        var elements = reference.Sum(r => r.numel());
        Tensor? best = null;
        var bestLoss = double.PositiveInfinity;
        for (var k = 0; k < grid; k++)
        {
            using var step = torch.NewDisposeScope();
            var s = magnitude.pow((double)k / grid).clamp_min(1e-4);
            s = s / (s.max() * s.min()).sqrt();
            for (var i = 0; i < linears.Count; i++)
            {
                linears[i].weight!.copy_(quantizer.Quantize(originals[i] * s.unsqueeze(0)) / s.unsqueeze(0));
            }
            var loss = 0.0;
            for (var b = 0; b < inputs.Count; b++)
            {
                loss += (reference[b] - AwqScaling.Inspect(layer, input, inputs[b], cos, sin)).square().sum().item<float>();
            }
            loss /= elements;
            if (loss < bestLoss)
            {
                bestLoss = loss;
                best?.Dispose();
                best = s.DetachFromDisposeScope();
            }
        }
        for (var i = 0; i < linears.Count; i++)
        {
            linears[i].weight!.copy_(originals[i]);
        }
        return (best!, bestLoss);
    }

    /// <summary>
    /// AWQ's clip search: per output row and group, the largest |w| is shrunk by <c>1 − i/grid</c> for <c>i &lt; maxShrink·grid</c>
    /// and the one whose quantized partial outputs <c>x_g · w_g</c> best match the float ones is kept; clamps the weight in place.
    /// </summary>
    /// <param name="weight"><c>[out, in]</c>, clipped in place.</param>
    /// <param name="inputs"><c>[tokens, in]</c>; at most <paramref name="samples"/> evenly strided tokens are used.</param>
    /// <param name="quantizer">The grid.</param>
    /// <param name="grid">Shrink steps of 1/grid (20).</param>
    /// <param name="maxShrink">Largest shrink tried (0.5).</param>
    /// <param name="samples">Tokens used (512).</param>
    /// <param name="rowsPerChunk">Output rows searched at once (bounds memory to rows·tokens·in floats).</param>
    public static void Clip(Tensor weight, Tensor inputs, AwqQuantizer quantizer, int grid = 20, double maxShrink = 0.5,
        int samples = 512, int rowsPerChunk = 64)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var rows = weight.shape[0];
        var columns = weight.shape[1];
        var size = quantizer.GroupSize == -1 ? columns : quantizer.GroupSize;
        var groups = columns / size;
        var stride = Math.Max(1, inputs.shape[0] / samples);
        var x = inputs.slice(0, 0, inputs.shape[0], stride).reshape(1, -1, groups, size);
        for (long start = 0; start < rows; start += rowsPerChunk)
        {
            using var chunkScope = torch.NewDisposeScope();
            var count = Math.Min(rowsPerChunk, rows - start);
            var w = weight.narrow(0, start, count).reshape(count, 1, groups, size);
            var original = w.abs().amax([-1], keepdim: true);
            var reference = (x * w).sum(-1);
            var best = original.clone();
            var minError = torch.full_like(original, 1e30);
            for (var i = 0; i < (int)(maxShrink * grid); i++)
            {
                using var step = torch.NewDisposeScope();
                var limit = original * (1 - (double)i / grid);
                var clipped = torch.maximum(torch.minimum(w, limit), limit.neg());
                var quantized = quantizer.Quantize(clipped.reshape(count, columns)).reshape(count, 1, groups, size);
                var error = ((x * quantized).sum(-1) - reference).square().mean([1]).view(minError.shape);
                var better = error.lt(minError);
                minError.copy_(torch.where(better, error, minError));
                best.copy_(torch.where(better, limit, best));
            }
            var target = weight.narrow(0, start, count);
            target.copy_(torch.maximum(torch.minimum(w, best), best.neg()).reshape(count, columns));
        }
    }
}
