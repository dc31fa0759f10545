using System.Text.Json;
using System.Text.Json.Nodes;

namespace Optimizer.Worker.Modeling.Architectures.Bert;

/// <summary>Hyperparameters of a Hugging Face <c>BertModel</c> encoder (defaults: <c>BertConfig</c>'s).</summary>
public sealed record BertConfig
{
    public const string Architecture = "BertModel";

    public int VocabSize { get; init; } = 30522;
    public int HiddenSize { get; init; } = 768;
    public int NumHiddenLayers { get; init; } = 12;
    public int NumAttentionHeads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 3072;
    public int MaxPositionEmbeddings { get; init; } = 512;
    public int TypeVocabSize { get; init; } = 2;
    public double LayerNormEps { get; init; } = 1e-12;
    public string HiddenAct { get; init; } = "gelu";
    public int PadTokenId { get; init; }
    public string TorchDtype { get; init; } = "float32";

    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>True when config.json declares a BERT encoder (<c>model_type</c> bert or a <c>Bert*</c> architecture).</summary>
    public static bool IsBert(HfConfig config) =>
        config.ModelType == "bert" || config.Architectures.Any(a => a.StartsWith("Bert", StringComparison.Ordinal));

    public static BertConfig FromHf(HfConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var raw = config.Raw;
        var result = new BertConfig
        {
            VocabSize = config.VocabSize ?? throw new InvalidDataException("config.json has no vocab_size"),
            HiddenSize = config.HiddenSize ?? throw new InvalidDataException("config.json has no hidden_size"),
            NumHiddenLayers = config.NumHiddenLayers ?? throw new InvalidDataException("config.json has no num_hidden_layers"),
            NumAttentionHeads = config.NumAttentionHeads ?? throw new InvalidDataException("config.json has no num_attention_heads"),
            IntermediateSize = config.IntermediateSize ?? throw new InvalidDataException("config.json has no intermediate_size"),
            MaxPositionEmbeddings = config.MaxPositionEmbeddings ?? 512,
            TypeVocabSize = Int(raw, "type_vocab_size") ?? 2,
            LayerNormEps = raw["layer_norm_eps"] is JsonValue eps && eps.GetValueKind() == JsonValueKind.Number ? eps.GetValue<double>() : 1e-12,
            HiddenAct = raw["hidden_act"] is JsonValue act && act.GetValueKind() == JsonValueKind.String ? act.GetValue<string>() : "gelu",
            PadTokenId = Int(raw, "pad_token_id") ?? 0,
            TorchDtype = config.TorchDtype ?? "float32",
        };
        result.Validate();
        return result;
    }

    public void Validate()
    {
        if (NumAttentionHeads <= 0 || HiddenSize % NumAttentionHeads != 0)
        {
            throw new InvalidDataException($"hidden_size ({HiddenSize}) must be a multiple of num_attention_heads ({NumAttentionHeads})");
        }
        if (HiddenAct is not ("gelu" or "gelu_new" or "gelu_pytorch_tanh"))
        {
            throw new InvalidDataException($"hidden_act '{HiddenAct}' is not supported (gelu, gelu_new, gelu_pytorch_tanh)");
        }
    }

    /// <summary>config.json in Hugging Face layout.</summary>
    public JsonObject ToJson() => new()
    {
        ["architectures"] = new JsonArray(Architecture),
        ["model_type"] = "bert",
        ["attention_probs_dropout_prob"] = 0.1,
        ["classifier_dropout"] = null,
        ["gradient_checkpointing"] = false,
        ["hidden_act"] = HiddenAct,
        ["hidden_dropout_prob"] = 0.1,
        ["hidden_size"] = HiddenSize,
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = IntermediateSize,
        ["layer_norm_eps"] = LayerNormEps,
        ["max_position_embeddings"] = MaxPositionEmbeddings,
        ["num_attention_heads"] = NumAttentionHeads,
        ["num_hidden_layers"] = NumHiddenLayers,
        ["pad_token_id"] = PadTokenId,
        ["position_embedding_type"] = "absolute",
        ["torch_dtype"] = TorchDtype,
        ["type_vocab_size"] = TypeVocabSize,
        ["use_cache"] = true,
        ["vocab_size"] = VocabSize,
    };

    public string ToJsonString() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private static int? Int(JsonObject raw, string key) =>
        raw[key] is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<int>() : null;
}
