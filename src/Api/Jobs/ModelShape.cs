using System.Text.Json;

namespace Optimizer.Api.Jobs;

/// <summary>The dimensions of a stored model that drive memory: sizes from its row, widths from its <c>config.json</c>.</summary>
/// <param name="SizeBytes">Stored size of its files.</param>
/// <param name="Parameters">Parameter count.</param>
/// <param name="HiddenSize">config <c>hidden_size</c> (0 when unknown).</param>
/// <param name="VocabSize">config <c>vocab_size</c> (0 when unknown).</param>
/// <param name="Heads">config <c>num_attention_heads</c> (0 when unknown).</param>
/// <param name="MaxPositions">config <c>max_position_embeddings</c> (0 when unknown).</param>
public sealed record ModelShape(long SizeBytes, long Parameters, long HiddenSize, long VocabSize, long Heads, long MaxPositions)
{
    /// <summary>Reads the widths from <c>config.json</c>; a config that cannot be read leaves them unknown (0).</summary>
    public static async Task<ModelShape> ReadAsync(IArtifactStore store, string blobPrefix, long sizeBytes, long parameters,
        CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await store.OpenReadAsync(blobPrefix + "config.json", cancellationToken);
            using var config = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
            var root = config.RootElement;
            // Multimodal configs nest the language model's widths under text_config.
            if (root.TryGetProperty("text_config", out var text) && text.ValueKind == JsonValueKind.Object)
            {
                root = text;
            }
            return new ModelShape(sizeBytes, parameters, Int(root, "hidden_size"), Int(root, "vocab_size"),
                Int(root, "num_attention_heads"), Int(root, "max_position_embeddings"));
        }
        catch (Exception ex) when (ex is JsonException or IOException or Azure.RequestFailedException)
        {
            return new ModelShape(sizeBytes, parameters, 0, 0, 0, 0);
        }
    }

    private static long Int(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.TryGetInt64(out var number) && number > 0 ? number : 0;
}
