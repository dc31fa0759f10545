using System.Text.Json;
using System.Text.Json.Serialization;
using Optimizer.Domain.Common;

namespace Optimizer.Domain.Formats.BitStack;

/// <summary>
/// The <c>bitstack.json</c> file of a BitStack model (docs/formats/bitstack.md): the decomposed linears, the bytes of one
/// block of each, the bytes outside the blocks, and the importance order in which blocks are added beyond the first.
/// </summary>
/// <remarks>
/// Shared by the Api (<c>GET /v1/models/{id}?budget_mb=</c>) and the Worker (loading to a budget), so both pick the same
/// truncation. A budget is in MB of 2^20 bytes.
/// </remarks>
public sealed record BitStackManifest
{
    public const string FileName = "bitstack.json";
    public const double BytesPerMb = 1024 * 1024;

    public string Format { get; init; } = "bitstack";
    public int Version { get; init; } = 1;
    /// <summary>Blocks stored per linear (niter).</summary>
    public int Blocks { get; init; }
    /// <summary>Rank of each block's magnitude factors.</summary>
    public int Rank { get; init; }
    /// <summary>Bytes of every tensor that is not a block (embeddings, norms, lm_head, biases).</summary>
    public long FixedBytes { get; init; }
    public IReadOnlyList<BitStackLinear> Linears { get; init; } = [];
    /// <summary>Indices into <see cref="Linears"/>: step j adds one more block to linear <c>Order[j]</c>; every linear starts with one.</summary>
    public IReadOnlyList<int> Order { get; init; } = [];

    /// <summary>Bytes of the smallest loadable model: one block per linear.</summary>
    [JsonIgnore]
    public long MinimumBytes => FixedBytes + Linears.Sum(l => l.BlockBytes);

    /// <summary>Bytes of the whole stack.</summary>
    [JsonIgnore]
    public long FullBytes => FixedBytes + Linears.Sum(l => l.BlockBytes * Blocks);

    public static BitStackManifest Parse(string json)
    {
        var manifest = JsonSerializer.Deserialize<BitStackManifest>(json, OptimizerJson.Options)
            ?? throw new InvalidDataException($"{FileName} is empty.");
        if (manifest.Format != "bitstack" || manifest.Blocks < 1 || manifest.Linears.Count == 0
            || manifest.Order.Any(i => i < 0 || i >= manifest.Linears.Count)
            || manifest.Order.Count != manifest.Linears.Count * (manifest.Blocks - 1))
        {
            throw new InvalidDataException($"{FileName} is not a valid BitStack manifest.");
        }
        return manifest;
    }

    public string ToJson() => JsonSerializer.Serialize(this, OptimizerJson.Options);

    /// <summary>The largest configuration along <see cref="Order"/> whose size is at most <paramref name="budgetMb"/>; null when even the minimum does not fit.</summary>
    public BitStackSelection? Select(double? budgetMb)
    {
        var blocks = Linears.Select(_ => 1).ToArray();
        var bytes = MinimumBytes;
        var budget = budgetMb is null ? long.MaxValue : (long)Math.Floor(budgetMb.Value * BytesPerMb);
        if (bytes > budget)
        {
            return null;
        }
        var steps = 0;
        foreach (var index in Order)
        {
            var next = bytes + Linears[index].BlockBytes;
            if (next > budget)
            {
                break;
            }
            bytes = next;
            blocks[index]++;
            steps++;
        }
        return new BitStackSelection(blocks, bytes, steps, Blocks * Linears.Count);
    }
}

/// <summary>One decomposed linear: its prefix (<c>model.layers.0.mlp.down_proj</c>), shape and the bytes of one block.</summary>
public sealed record BitStackLinear(string Prefix, int OutFeatures, int InFeatures, long BlockBytes);

/// <summary>A truncation: blocks loaded per linear (manifest order), its size, and how many blocks of the stack it keeps.</summary>
public sealed record BitStackSelection(IReadOnlyList<int> BlocksPerLinear, long SizeBytes, int Steps, int TotalBlocks)
{
    [JsonIgnore]
    public int LoadedBlocks => BlocksPerLinear.Sum();
}
