using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Llama;

/// <summary>Pre-norm decoder block: <c>h = x + attn(norm(x)); out = h + mlp(norm(h))</c>.</summary>
public sealed class LlamaDecoderLayer : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    public LlamaDecoderLayer(LlamaConfig config) : base(nameof(LlamaDecoderLayer))
    {
        SelfAttn = new LlamaAttention(config);
        Mlp = new LlamaMlp(config);
        InputLayernorm = new LlamaRmsNorm(config.HiddenSize, config.RmsNormEps);
        PostAttentionLayernorm = new LlamaRmsNorm(config.HiddenSize, config.RmsNormEps);
        register_module("self_attn", SelfAttn);
        register_module("mlp", Mlp);
        register_module("input_layernorm", InputLayernorm);
        register_module("post_attention_layernorm", PostAttentionLayernorm);
    }

    public LlamaAttention SelfAttn { get; }
    public LlamaMlp Mlp { get; }
    public LlamaRmsNorm InputLayernorm { get; }
    public LlamaRmsNorm PostAttentionLayernorm { get; }

    public override Tensor forward(Tensor hidden, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        var afterAttention = hidden + SelfAttn.forward(InputLayernorm.forward(hidden), cos, sin);
        var output = afterAttention + Mlp.forward(PostAttentionLayernorm.forward(afterAttention));
        return output.MoveToOuterDisposeScope();
    }
}
