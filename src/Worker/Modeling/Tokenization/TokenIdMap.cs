using System.Text.Json;
using System.Text.Json.Serialization;
using Optimizer.Domain.Common;

namespace Optimizer.Worker.Modeling.Tokenization;

/// <summary>
/// A compact vocabulary over a base tokenizer's ids (<c>token_id_map.json</c> in a model folder): compact id
/// <c>i</c> stands for base id <see cref="BaseIds"/>[i]; every other base id becomes <see cref="UnknownId"/>.
/// </summary>
/// <remarks>
/// Lets a small model keep GPT-2's tokenizer files while its embedding has a few thousand rows, so most of its
/// weights sit in the decoder linears (the bench fixture). <see cref="TokenizerLoader"/> applies the map whenever
/// the file is present, so training, calibration and evaluation all tokenize alike.
/// </remarks>
public sealed record TokenIdMap
{
    public const string FileName = "token_id_map.json";

    private Dictionary<int, int>? _lookup;

    /// <summary>Base ids in compact order; its length is <see cref="UnknownId"/>.</summary>
    public required IReadOnlyList<int> BaseIds { get; init; }

    /// <summary>The compact id of every base id not in <see cref="BaseIds"/> (the last row of the embedding).</summary>
    [JsonIgnore]
    public int UnknownId => BaseIds.Count;

    /// <summary>Compact vocabulary size (mapped ids plus the unknown id).</summary>
    [JsonIgnore]
    public int VocabularySize => BaseIds.Count + 1;

    /// <summary>The <paramref name="size"/> − 1 most frequent ids of <paramref name="tokens"/> (ties by smaller id), plus unknown.</summary>
    public static TokenIdMap MostFrequent(IEnumerable<int> tokens, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 2);
        var kept = tokens.GroupBy(t => t).OrderByDescending(g => g.Count()).ThenBy(g => g.Key)
            .Take(size - 1).Select(g => g.Key).ToArray();
        return new TokenIdMap { BaseIds = kept };
    }

    /// <summary>Maps base ids to compact ids.</summary>
    public int[] Map(IEnumerable<int> baseIds)
    {
        var lookup = Lookup();
        return baseIds.Select(id => lookup.GetValueOrDefault(id, UnknownId)).ToArray();
    }

    /// <summary>Base id of compact id <paramref name="compactId"/>; null for the unknown id.</summary>
    public int? BaseId(int compactId) => compactId >= 0 && compactId < BaseIds.Count ? BaseIds[compactId] : null;

    public static TokenIdMap? TryLoad(string folder)
    {
        var path = Path.Combine(folder, FileName);
        return File.Exists(path)
            ? JsonSerializer.Deserialize<TokenIdMap>(File.ReadAllText(path), OptimizerJson.Options)
                ?? throw new InvalidDataException($"{path} is empty")
            : null;
    }

    public void Save(string folder) =>
        File.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, OptimizerJson.Options));

    private Dictionary<int, int> Lookup() =>
        _lookup ??= BaseIds.Select((id, index) => (id, index)).ToDictionary(p => p.id, p => p.index);
}
