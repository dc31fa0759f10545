using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Bert;

/// <summary>
/// Sentence embeddings the sentence-transformers way: WordPiece ([CLS] … [SEP], truncated), a
/// <see cref="BertModel"/> forward pass, mean pooling over real tokens, L2 normalisation.
/// </summary>
public sealed class SentenceEncoder : IDisposable
{
    /// <summary>Default truncation when tokenizer_config.json names none (sentence-transformers' for MiniLM).</summary>
    public const int DefaultMaxTokens = 256;

    private readonly BertTokenizer _tokenizer;
    private readonly int _maxTokens;

    private SentenceEncoder(BertModel model, BertTokenizer tokenizer, int maxTokens)
    {
        Model = model;
        _tokenizer = tokenizer;
        _maxTokens = maxTokens;
    }

    public BertModel Model { get; }

    /// <summary>Loads model, <c>vocab.txt</c> and <c>tokenizer_config.json</c> (lower-casing, max length) from a model folder.</summary>
    public static SentenceEncoder Load(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var (tokenizer, maxTokens) = LoadTokenizer(folder.Path);
        var model = BertModel.FromFolder(folder);
        return new SentenceEncoder(model, tokenizer, Math.Min(maxTokens, model.Config.MaxPositionEmbeddings));
    }

    /// <summary>The WordPiece tokenizer of a BERT folder and its truncation length.</summary>
    public static (BertTokenizer Tokenizer, int MaxTokens) LoadTokenizer(string modelDir)
    {
        var vocab = Path.Combine(modelDir, "vocab.txt");
        if (!File.Exists(vocab))
        {
            throw new FileNotFoundException($"{modelDir} has no vocab.txt (a BERT model needs its WordPiece vocabulary)", vocab);
        }
        var configPath = Path.Combine(modelDir, "tokenizer_config.json");
        var config = File.Exists(configPath) ? JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject : null;
        var lowerCase = config?["do_lower_case"]?.GetValue<bool>() ?? true;
        var maxTokens = config?["model_max_length"] is JsonValue max && max.TryGetValue<long>(out var m) && m is > 2 and < 1_000_000
            ? (int)m
            : DefaultMaxTokens;
        // Hugging Face's BasicTokenizer strips accents whenever it lower-cases (strip_accents unset).
        var tokenizer = BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = lowerCase, RemoveNonSpacingMarks = lowerCase });
        return (tokenizer, maxTokens);
    }

    /// <summary>Token ids with [CLS] and [SEP], truncated to the model's length.</summary>
    public IReadOnlyList<int> Tokenize(string sentence)
    {
        var pieces = _tokenizer.EncodeToIds(sentence, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);
        var ids = new List<int>(Math.Min(pieces.Count, _maxTokens - 2) + 2) { _tokenizer.ClassificationTokenId };
        ids.AddRange(pieces.Take(_maxTokens - 2));
        ids.Add(_tokenizer.SeparatorTokenId);
        return ids;
    }

    /// <summary>Right-padded input_ids and attention_mask [B, T] for a batch of sentences.</summary>
    public (Tensor InputIds, Tensor AttentionMask) Batch(IReadOnlyList<string> sentences)
    {
        var tokenized = sentences.Select(Tokenize).ToList();
        var length = tokenized.Max(t => t.Count);
        var ids = new long[sentences.Count * length];
        var mask = new long[sentences.Count * length];
        Array.Fill(ids, _tokenizer.PaddingTokenId);
        for (var i = 0; i < tokenized.Count; i++)
        {
            for (var j = 0; j < tokenized[i].Count; j++)
            {
                ids[i * length + j] = tokenized[i][j];
                mask[i * length + j] = 1;
            }
        }
        long[] shape = [sentences.Count, length];
        return (torch.tensor(ids, shape), torch.tensor(mask, shape));
    }

    /// <summary>Unit-length sentence embeddings [N, hidden] (float32, CPU), computed <paramref name="batchSize"/> sentences at a time.</summary>
    public Tensor Encode(IReadOnlyList<string> sentences, int batchSize = 16, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        using var noGrad = torch.no_grad();
        var device = Model.parameters().First().device;
        var parts = new List<Tensor>();
        try
        {
            for (var start = 0; start < sentences.Count; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                var (ids, mask) = Batch(sentences.Skip(start).Take(batchSize).ToList());
                var hidden = Model.forward(ids.to(device), mask.to(device));
                parts.Add(MeanPool(hidden, mask.to(device)).cpu().MoveToOuterDisposeScope());
            }
            return torch.cat(parts, 0);
        }
        finally
        {
            parts.ForEach(p => p.Dispose());
        }
    }

    /// <summary>Mean of the hidden states over real tokens, then L2-normalised (sentence-transformers' Pooling + Normalize).</summary>
    public static Tensor MeanPool(Tensor hidden, Tensor attentionMask)
    {
        using var scope = torch.NewDisposeScope();
        var weights = attentionMask.to(hidden.dtype).unsqueeze(-1);
        var summed = (hidden * weights).sum(1);
        var counts = weights.sum(1).clamp_min(1e-9);
        return nn.functional.normalize(summed / counts, p: 2, dim: 1).MoveToOuterDisposeScope();
    }

    public void Dispose() => Model.Dispose();
}
