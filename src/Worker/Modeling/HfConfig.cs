using System.Text.Json;
using System.Text.Json.Nodes;

namespace Optimizer.Worker.Modeling;

/// <summary>
/// The fields of a Hugging Face <c>config.json</c> the worker reads, with the whole document kept in
/// <see cref="Raw"/> so that a rewritten config keeps every field it does not understand.
/// </summary>
public sealed record HfConfig
{
    public required JsonObject Raw { get; init; }
    public IReadOnlyList<string> Architectures { get; init; } = [];
    public string? ModelType { get; init; }
    public string? TorchDtype { get; init; }
    public int? VocabSize { get; init; }
    public int? HiddenSize { get; init; }
    public int? IntermediateSize { get; init; }
    public int? NumHiddenLayers { get; init; }
    public int? NumAttentionHeads { get; init; }
    public int? NumKeyValueHeads { get; init; }
    public int? HeadDim { get; init; }
    public int? MaxPositionEmbeddings { get; init; }
    public double? RmsNormEps { get; init; }
    public double? RopeTheta { get; init; }
    public bool? TieWordEmbeddings { get; init; }
    public int? BosTokenId { get; init; }
    /// <summary>End-of-sequence ids; <c>eos_token_id</c> may be a number or a list (Llama 3).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    /// <summary>The raw <c>quantization_config</c> object, when the model is quantized.</summary>
    public JsonObject? QuantizationConfig { get; init; }

    public static HfConfig Load(string path) => Parse(File.ReadAllText(path));

    public static HfConfig Parse(string json)
    {
        var raw = JsonNode.Parse(json) as JsonObject
            ?? throw new InvalidDataException("config.json is not a JSON object");
        return new HfConfig
        {
            Raw = raw,
            Architectures = raw["architectures"] is JsonArray list
                ? list.Select(a => a?.GetValue<string>() ?? "").ToList()
                : [],
            ModelType = String(raw, "model_type"),
            TorchDtype = String(raw, "torch_dtype") ?? String(raw, "dtype"),
            VocabSize = Int(raw, "vocab_size"),
            HiddenSize = Int(raw, "hidden_size"),
            IntermediateSize = Int(raw, "intermediate_size"),
            NumHiddenLayers = Int(raw, "num_hidden_layers"),
            NumAttentionHeads = Int(raw, "num_attention_heads"),
            NumKeyValueHeads = Int(raw, "num_key_value_heads"),
            HeadDim = Int(raw, "head_dim"),
            MaxPositionEmbeddings = Int(raw, "max_position_embeddings"),
            RmsNormEps = Double(raw, "rms_norm_eps"),
            RopeTheta = Double(raw, "rope_theta"),
            TieWordEmbeddings = raw["tie_word_embeddings"] is JsonValue tie && tie.GetValueKind() is JsonValueKind.True or JsonValueKind.False
                ? tie.GetValue<bool>()
                : null,
            BosTokenId = Int(raw, "bos_token_id"),
            EosTokenIds = raw["eos_token_id"] switch
            {
                JsonArray ids => ids.Select(i => i!.GetValue<int>()).ToList(),
                JsonValue id when id.GetValueKind() == JsonValueKind.Number => [id.GetValue<int>()],
                _ => [],
            },
            QuantizationConfig = raw["quantization_config"] as JsonObject,
        };
    }

    private static string? String(JsonObject raw, string key) =>
        raw[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static int? Int(JsonObject raw, string key) =>
        raw[key] is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<int>() : null;

    private static double? Double(JsonObject raw, string key) =>
        raw[key] is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<double>() : null;
}
