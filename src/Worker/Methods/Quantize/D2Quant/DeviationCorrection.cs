using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.D2Quant;

/// <summary>
/// D²Quant's deviation-aware correction (ALGORITHMS.md 1.9 DAC): the quantized block's mean output over the calibration
/// tokens is moved back onto the full-precision block's mean by a <c>down_proj</c> bias (RMSNorm has none; the bias adds
/// to the residual stream right where the next norm reads it).
/// </summary>
public static class DeviationCorrection
{
    /// <summary>Mean over every token of <paramref name="layer"/>'s outputs for <paramref name="inputs"/>: float64 <c>[hidden]</c>.</summary>
    public static Tensor MeanOutput(LlamaDecoderLayer layer, IReadOnlyList<Tensor> inputs, Tensor cos, Tensor sin)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        Tensor? sum = null;
        long tokens = 0;
        foreach (var input in inputs)
        {
            using var batch = torch.NewDisposeScope();
            var output = layer.forward(input, cos, sin).to(ScalarType.Float64);
            var flat = output.reshape(-1, output.shape[^1]);
            var part = flat.sum(dim: 0);
            sum = (sum is null ? part : sum + part).MoveToOuterDisposeScope();
            tokens += flat.shape[0];
        }
        if (sum is null || tokens == 0)
        {
            throw new ArgumentException("no calibration inputs", nameof(inputs));
        }
        return (sum / (double)tokens).to(ScalarType.Float64).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Adds <c>fullPrecisionMean − E[layer(inputs)]</c> to <paramref name="layer"/>'s <c>down_proj</c> bias (created when
    /// absent), so the corrected block's mean output over <paramref name="inputs"/> equals <paramref name="fullPrecisionMean"/>.
    /// Returns the mean shift that was removed, float64 <c>[hidden]</c>.
    /// </summary>
    public static Tensor Apply(LlamaDecoderLayer layer, Tensor fullPrecisionMean, IReadOnlyList<Tensor> inputs, Tensor cos, Tensor sin)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var deviation = MeanOutput(layer, inputs, cos, sin) - fullPrecisionMean;
        var bias = layer.Mlp.AddDownProjBias();
        bias.sub_(deviation.to(bias.dtype).to(bias.device));
        return deviation.MoveToOuterDisposeScope();
    }
}
