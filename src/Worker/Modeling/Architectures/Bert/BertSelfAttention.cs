using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Bert;

/// <summary>Bidirectional multi-head self-attention with biases (Hugging Face <c>BertSelfAttention</c>).</summary>
public sealed class BertSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly int _heads;
    private readonly int _headDim;

    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        _heads = config.NumAttentionHeads;
        _headDim = config.HeadDim;
        Query = nn.Linear(config.HiddenSize, config.HiddenSize);
        Key = nn.Linear(config.HiddenSize, config.HiddenSize);
        Value = nn.Linear(config.HiddenSize, config.HiddenSize);
        register_module("query", Query);
        register_module("key", Key);
        register_module("value", Value);
    }

    public Linear Query { get; }
    public Linear Key { get; }
    public Linear Value { get; }

    /// <param name="hidden">[B, T, hidden]</param>
    /// <param name="additiveMask">[B, 1, 1, T]: 0 for tokens to attend to, a large negative number for padding.</param>
    /// <returns>The heads' outputs merged back to [B, T, hidden] (before the output projection).</returns>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = torch.NewDisposeScope();
        var batch = hidden.shape[0];
        var length = hidden.shape[1];
        Tensor Heads(Linear projection) => projection.forward(hidden).view(batch, length, _heads, _headDim).transpose(1, 2);
        var attended = nn.functional.scaled_dot_product_attention(Heads(Query), Heads(Key), Heads(Value), additiveMask);
        return attended.transpose(1, 2).reshape(batch, length, _heads * _headDim).MoveToOuterDisposeScope();
    }
}
