using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;

namespace Optimizer.Bench.Latency;

/// <summary>
/// A random Llama whose decode step is dominated by its decoder linears (TinyLlama-1.1B's layer shape, 2 layers, a
/// 512-token vocabulary): latency does not depend on the weights' values, so no training is needed.
/// </summary>
internal static class SyntheticLlama
{
    public static readonly LlamaConfig Config = new()
    {
        VocabSize = 512,
        HiddenSize = 2048,
        IntermediateSize = 5632,
        NumHiddenLayers = 2,
        NumAttentionHeads = 16,
        NumKeyValueHeads = 4,
        HeadDim = 128,
        MaxPositionEmbeddings = 256,
        TieWordEmbeddings = true,
    };

    public static string Description =>
        $"random Llama {Config.NumHiddenLayers}×(hidden {Config.HiddenSize}, intermediate {Config.IntermediateSize}), vocabulary {Config.VocabSize}";

    public static void Write(string dir)
    {
        torch.manual_seed(20261203);
        using var model = new LlamaForCausalLM(Config);
        model.SaveTo(dir);
    }
}
