using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune;

/// <summary>Callbacks for <see cref="PrunedModelWriter.WriteAsync"/> that take the pruned weights from a calibrated float32 model.</summary>
internal static class PrunedWeights
{
    /// <summary>
    /// Applies only the model's zeros to the stored tensor (Wanda: weights are not updated), so surviving weights keep
    /// the source dtype's exact values.
    /// </summary>
    public static Func<string, Tensor, Tensor> MaskFrom(LlamaForCausalLM model)
    {
        var parameters = Parameters(model);
        return (name, weight) =>
        {
            using (torch.NewDisposeScope())
            {
                weight.masked_fill_(parameters[name].eq(0), 0);
            }
            return weight;
        };
    }

    /// <summary>The model's updated weights cast to the stored dtype (SparseGPT compensates the surviving weights).</summary>
    public static Func<string, Tensor, Tensor> FromModel(LlamaForCausalLM model)
    {
        var parameters = Parameters(model);
        return (name, weight) =>
        {
            using (torch.NewDisposeScope())
            {
                weight.copy_(parameters[name].to(weight.dtype));
            }
            return weight;
        };
    }

    private static Dictionary<string, Tensor> Parameters(LlamaForCausalLM model) =>
        model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter, StringComparer.Ordinal);
}
