using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Llama;

/// <summary>The decoder stack (Hugging Face <c>LlamaModel</c>): token embeddings, layers, final norm.</summary>
public sealed class LlamaModel : nn.Module<Tensor, Tensor>
{
    private readonly LlamaConfig _config;

    public LlamaModel(LlamaConfig config) : base(nameof(LlamaModel))
    {
        _config = config;
        EmbedTokens = nn.Embedding(config.VocabSize, config.HiddenSize);
        Layers = new ModuleList<LlamaDecoderLayer>(
            Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new LlamaDecoderLayer(config)).ToArray());
        Norm = new LlamaRmsNorm(config.HiddenSize, config.RmsNormEps);
        register_module("embed_tokens", EmbedTokens);
        register_module("layers", Layers);
        register_module("norm", Norm);
    }

    public Embedding EmbedTokens { get; }
    public ModuleList<LlamaDecoderLayer> Layers { get; }
    public LlamaRmsNorm Norm { get; }

    /// <summary>Rotary tables for a sequence of <paramref name="length"/> tokens on <paramref name="device"/>.</summary>
    public (Tensor Cos, Tensor Sin) RotaryTables(long length, Device device) =>
        LlamaRotaryEmbedding.Compute(length, _config.HeadDim, _config.RopeTheta, device);

    /// <summary>input_ids [B, T] int64 → final hidden states [B, T, hidden].</summary>
    public override Tensor forward(Tensor inputIds)
    {
        using var scope = torch.NewDisposeScope();
        var (cos, sin) = RotaryTables(inputIds.shape[1], inputIds.device);
        var hidden = EmbedTokens.forward(inputIds);
        foreach (var layer in Layers)
        {
            hidden = layer.forward(hidden, cos, sin);
        }
        return Norm.forward(hidden).MoveToOuterDisposeScope();
    }
}
