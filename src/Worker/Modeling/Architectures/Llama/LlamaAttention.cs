using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Llama;

/// <summary>
/// Causal grouped-query self-attention: <c>num_key_value_heads</c> key/value heads each shared by
/// <c>num_attention_heads / num_key_value_heads</c> query heads, rotary positions on queries and keys.
/// </summary>
public sealed class LlamaAttention : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly int _heads;
    private readonly int _keyValueHeads;
    private readonly int _headDim;
    private readonly FactoredProjections _factored = new();

    public LlamaAttention(LlamaConfig config) : base(nameof(LlamaAttention))
    {
        _heads = config.NumAttentionHeads;
        _keyValueHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        QProj = nn.Linear(config.HiddenSize, _heads * _headDim, hasBias: false);
        KProj = nn.Linear(config.HiddenSize, _keyValueHeads * _headDim, hasBias: false);
        VProj = nn.Linear(config.HiddenSize, _keyValueHeads * _headDim, hasBias: false);
        OProj = nn.Linear(_heads * _headDim, config.HiddenSize, hasBias: false);
        register_module("q_proj", QProj);
        register_module("k_proj", KProj);
        register_module("v_proj", VProj);
        register_module("o_proj", OProj);
    }

    public Linear QProj { get; }
    public Linear KProj { get; }
    public Linear VProj { get; }
    public Linear OProj { get; }

    /// <summary>
    /// Runs projection <paramref name="name"/> (<c>q_proj</c> … <c>o_proj</c>) through <paramref name="module"/> instead of
    /// its dense <see cref="Linear"/>, registered under the same name so that its weights load by name (Monarch factors).
    /// </summary>
    public void UseFactored(string name, nn.Module<Tensor, Tensor> module) => _factored.Use(this, name, name switch
    {
        "q_proj" => QProj,
        "k_proj" => KProj,
        "v_proj" => VProj,
        "o_proj" => OProj,
        _ => throw new ArgumentException($"LlamaAttention has no projection '{name}'.", nameof(name)),
    }, module);

    /// <param name="hidden">[B, T, hidden]</param>
    /// <param name="cos">[T, headDim] from <see cref="LlamaRotaryEmbedding.Compute"/></param>
    /// <param name="sin">[T, headDim]</param>
    public override Tensor forward(Tensor hidden, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        return _factored.Forward("o_proj", OProj, Attend(hidden, cos, sin)).MoveToOuterDisposeScope();
    }

    /// <summary>The attention output before <c>o_proj</c> ([B, T, heads·head_dim]): the input calibration needs for that linear.</summary>
    public Tensor Attend(Tensor hidden, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        var batch = hidden.shape[0];
        var length = hidden.shape[1];
        var query = _factored.Forward("q_proj", QProj, hidden).view(batch, length, _heads, _headDim).transpose(1, 2);
        var key = _factored.Forward("k_proj", KProj, hidden).view(batch, length, _keyValueHeads, _headDim).transpose(1, 2);
        var value = _factored.Forward("v_proj", VProj, hidden).view(batch, length, _keyValueHeads, _headDim).transpose(1, 2);
        query = LlamaRotaryEmbedding.Apply(query, cos, sin);
        key = LlamaRotaryEmbedding.Apply(key, cos, sin);
        if (_heads != _keyValueHeads)
        {
            // Query head h reads key/value head h / groups, as Hugging Face repeat_kv does.
            var groups = _heads / _keyValueHeads;
            key = key.repeat_interleave(groups, dim: 1);
            value = value.repeat_interleave(groups, dim: 1);
        }
        // TorchSharp spells the causal flag "is_casual".
        var attended = nn.functional.scaled_dot_product_attention(query, key, value, is_casual: true);
        var merged = attended.transpose(1, 2).reshape(batch, length, _heads * _headDim);
        return merged.MoveToOuterDisposeScope();
    }
}
