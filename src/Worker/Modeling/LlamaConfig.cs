using System.Text.Json;
using System.Text.Json.Nodes;

namespace Optimizer.Worker.Modeling;

/// <summary>
/// The hyperparameters of a Llama-shaped decoder, with Hugging Face <c>LlamaConfig</c> defaults for
/// fields a config.json leaves out.
/// </summary>
public sealed record LlamaConfig
{
    public int VocabSize { get; init; } = 32000;
    public int HiddenSize { get; init; } = 4096;
    public int IntermediateSize { get; init; } = 11008;
    public int NumHiddenLayers { get; init; } = 32;
    public int NumAttentionHeads { get; init; } = 32;
    public int NumKeyValueHeads { get; init; } = 32;
    /// <summary>Per-head width; <c>hidden_size / num_attention_heads</c> unless the config says otherwise.</summary>
    public int HeadDim { get; init; } = 128;
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public bool TieWordEmbeddings { get; init; }
    public string TorchDtype { get; init; } = "float32";
    public int? BosTokenId { get; init; } = 1;
    public int? EosTokenId { get; init; } = 2;

    /// <summary>Reads a Llama config; throws when a required size is missing or the shapes are inconsistent.</summary>
    public static LlamaConfig FromHf(HfConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var hidden = config.HiddenSize ?? throw new InvalidDataException("config.json has no hidden_size");
        var heads = config.NumAttentionHeads ?? throw new InvalidDataException("config.json has no num_attention_heads");
        var result = new LlamaConfig
        {
            VocabSize = config.VocabSize ?? throw new InvalidDataException("config.json has no vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = config.IntermediateSize ?? throw new InvalidDataException("config.json has no intermediate_size"),
            NumHiddenLayers = config.NumHiddenLayers ?? throw new InvalidDataException("config.json has no num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = config.NumKeyValueHeads ?? heads,
            HeadDim = config.HeadDim ?? hidden / heads,
            MaxPositionEmbeddings = config.MaxPositionEmbeddings ?? 2048,
            RmsNormEps = config.RmsNormEps ?? 1e-6,
            RopeTheta = config.RopeTheta ?? 10000,
            TieWordEmbeddings = config.TieWordEmbeddings ?? false,
            TorchDtype = config.TorchDtype ?? "float32",
            BosTokenId = config.BosTokenId,
            EosTokenId = config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null,
        };
        result.Validate();
        return result;
    }

    public void Validate()
    {
        if (NumAttentionHeads <= 0 || NumKeyValueHeads <= 0 || NumAttentionHeads % NumKeyValueHeads != 0)
        {
            throw new InvalidDataException(
                $"num_attention_heads ({NumAttentionHeads}) must be a positive multiple of num_key_value_heads ({NumKeyValueHeads})");
        }
        if (HeadDim <= 0 || HeadDim % 2 != 0)
        {
            throw new InvalidDataException($"head_dim ({HeadDim}) must be positive and even for rotary embeddings");
        }
    }

    /// <summary>A config.json document in Hugging Face layout for <c>LlamaForCausalLM</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["attention_bias"] = false,
        ["attention_dropout"] = 0.0,
        ["bos_token_id"] = BosTokenId,
        ["eos_token_id"] = EosTokenId,
        ["head_dim"] = HeadDim,
        ["hidden_act"] = "silu",
        ["hidden_size"] = HiddenSize,
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = IntermediateSize,
        ["max_position_embeddings"] = MaxPositionEmbeddings,
        ["mlp_bias"] = false,
        ["num_attention_heads"] = NumAttentionHeads,
        ["num_hidden_layers"] = NumHiddenLayers,
        ["num_key_value_heads"] = NumKeyValueHeads,
        ["pretraining_tp"] = 1,
        ["rms_norm_eps"] = RmsNormEps,
        ["rope_scaling"] = null,
        ["rope_theta"] = RopeTheta,
        ["tie_word_embeddings"] = TieWordEmbeddings,
        ["torch_dtype"] = TorchDtype,
        ["use_cache"] = true,
        ["vocab_size"] = VocabSize,
    };

    public string ToJsonString() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
