using System.Text.Json;
using Microsoft.ML.Tokenizers;
using Optimizer.Domain.Jobs;
using Optimizer.Worker.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.FineTune.Shared;

/// <summary>
/// Tokenized training sequences of a fixed length: inputs and next-token targets, with <see cref="IgnoreIndex"/> on the
/// positions that carry no loss (prompt tokens of prompt/completion pairs, padding).
/// </summary>
/// <remarks>
/// The format is read from the text itself (the datasets' own rule): lines that are all JSON objects with
/// <c>prompt</c> + <c>completion</c> are pairs (loss on the completion and its end-of-text only), with <c>text</c> are
/// documents; anything else is one plain-text document. Documents are joined with end-of-text and cut into
/// non-overlapping windows of <c>seq_len + 1</c> tokens.
/// </remarks>
public sealed class TrainingExamples
{
    public const long IgnoreIndex = -100;
    /// <summary>The shuffled order of the current epoch (one kept: steps only move forward).</summary>
    private readonly Dictionary<int, int[]> _orders = [];

    private TrainingExamples(List<long[]> inputs, List<long[]> targets, int seqLen)
    {
        Inputs = inputs;
        Targets = targets;
        SeqLen = seqLen;
    }

    public IReadOnlyList<long[]> Inputs { get; }
    public IReadOnlyList<long[]> Targets { get; }
    public int SeqLen { get; }
    public int Count => Inputs.Count;

    /// <summary>Builds the sequences; throws <c>invalid_dataset</c> when the text yields none.</summary>
    public static TrainingExamples Build(string text, Tokenizer tokenizer, int seqLen, int endOfText)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var inputs = new List<long[]>();
        var targets = new List<long[]>();
        var records = ParseJsonLines(text);
        if (records is not null && records.All(r => r.Prompt is not null))
        {
            foreach (var (prompt, completion) in records)
            {
                var promptIds = tokenizer.EncodeToIds(prompt!);
                var completionIds = tokenizer.EncodeToIds(completion);
                var ids = promptIds.Concat(completionIds).Append(endOfText).Select(i => (long)i).Take(seqLen + 1).ToArray();
                var lossFrom = promptIds.Count;
                var input = Enumerable.Repeat((long)endOfText, seqLen).ToArray();
                var target = Enumerable.Repeat(IgnoreIndex, seqLen).ToArray();
                for (var t = 0; t < ids.Length - 1; t++)
                {
                    input[t] = ids[t];
                    // Target t is token t + 1: only completion tokens (and the closing end-of-text) carry loss.
                    target[t] = t + 1 >= lossFrom ? ids[t + 1] : IgnoreIndex;
                }
                if (target.Any(t => t != IgnoreIndex))
                {
                    inputs.Add(input);
                    targets.Add(target);
                }
            }
        }
        else
        {
            var documents = records?.Select(r => r.Text) ?? [text];
            var stream = new List<long>();
            foreach (var document in documents)
            {
                stream.AddRange(tokenizer.EncodeToIds(document).Select(i => (long)i));
                stream.Add(endOfText);
            }
            for (var start = 0; start + seqLen + 1 <= stream.Count; start += seqLen)
            {
                inputs.Add([.. stream.GetRange(start, seqLen)]);
                targets.Add([.. stream.GetRange(start + 1, seqLen)]);
            }
        }
        if (inputs.Count == 0)
        {
            throw new JobFailedException(JobErrorCodes.InvalidDataset,
                $"The training dataset yields no sequence of {seqLen + 1} tokens (or no completion tokens).");
        }
        return new TrainingExamples(inputs, targets, seqLen);
    }

    /// <summary>
    /// The example indices of one step: epoch-wise shuffled order (seeded per epoch), so a step's batch depends only on
    /// the seed and the step number, and a resumed run sees the same data.
    /// </summary>
    public int[] BatchIndices(int step, int batchSize, int seed)
    {
        var indices = new int[batchSize];
        for (var b = 0; b < batchSize; b++)
        {
            var position = (long)step * batchSize + b;
            var epoch = (int)(position / Count);
            indices[b] = Order(epoch, seed)[(int)(position % Count)];
        }
        return indices;
    }

    /// <summary>(input, target) tensors [B, T] of the given examples.</summary>
    public (Tensor Input, Tensor Target) Batch(int[] indices)
    {
        var input = new long[indices.Length * SeqLen];
        var target = new long[indices.Length * SeqLen];
        for (var b = 0; b < indices.Length; b++)
        {
            Inputs[indices[b]].CopyTo(input, b * SeqLen);
            Targets[indices[b]].CopyTo(target, b * SeqLen);
        }
        return (torch.tensor(input, [indices.Length, SeqLen]), torch.tensor(target, [indices.Length, SeqLen]));
    }

    private int[] Order(int epoch, int seed)
    {
        if (!_orders.TryGetValue(epoch, out var order))
        {
            order = [.. Enumerable.Range(0, Count)];
            new Random(HashCode.Combine(seed, epoch)).Shuffle(order);
            _orders.Clear();
            _orders[epoch] = order;
        }
        return order;
    }

    /// <summary>The records when every non-empty line is a JSON object with <c>text</c> or <c>prompt</c>+<c>completion</c>; null otherwise.</summary>
    private static List<(string? Prompt, string Text)>? ParseJsonLines(string text)
    {
        var records = new List<(string?, string)>();
        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 0)
            {
                continue;
            }
            if (trimmed[0] != '{')
            {
                return null;
            }
            try
            {
                using var document = JsonDocument.Parse(trimmed);
                var root = document.RootElement;
                if (root.TryGetProperty("prompt", out var prompt) && root.TryGetProperty("completion", out var completion)
                    && prompt.ValueKind == JsonValueKind.String && completion.ValueKind == JsonValueKind.String)
                {
                    records.Add((prompt.GetString()!, completion.GetString()!));
                }
                else if (root.TryGetProperty("text", out var body) && body.ValueKind == JsonValueKind.String)
                {
                    records.Add((null, body.GetString()!));
                }
                else
                {
                    return null;
                }
            }
            catch (JsonException)
            {
                return null;
            }
        }
        return records.Count > 0 && records.Select(r => r.Item1 is null).Distinct().Count() == 1 ? records : null;
    }
}
