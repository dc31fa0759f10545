using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using static TorchSharp.torch;

namespace Optimizer.Worker.Inference;

/// <summary>
/// The CPU inference path for quantized Llama checkpoints: every decoder projection a kernel can run is a
/// <see cref="KernelLinear"/> over its stored low-bit weight; the rest (embeddings, norms, <c>lm_head</c>, linears in a
/// format without a kernel) load as usual.
/// </summary>
/// <remarks>
/// Its logits equal those of the dequantize-then-matmul model within the tolerance the README states ("Low-bit kernels"):
/// the integer-dot kernels quantize activations to int8 per block, which moves each output by at most
/// <c>Σ|w|·sx/2</c>; FP8 keeps fp32 activations. The model stays on the CPU.
/// </remarks>
public static class KernelModel
{
    /// <summary>Builds the model of <paramref name="folder"/> (opened with the packed readers) with kernel linears where a kernel exists.</summary>
    public static LlamaForCausalLM Load(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return LlamaForCausalLM.FromFolder(folder, prefix => KernelLinearReader.TryRead(folder, prefix));
    }

    /// <summary>The kernel linears of <paramref name="model"/>, in module order.</summary>
    public static IReadOnlyList<KernelLinear> Linears(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        // A replaced projection is registered under its name and TorchSharp's backing-field alias: count each module once.
        return model.modules().OfType<KernelLinear>().Distinct(ReferenceEqualityComparer.Instance).Cast<KernelLinear>().ToList();
    }
}
