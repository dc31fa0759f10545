using Optimizer.Worker.Modeling.Tokenization;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Modeling.Tokenization;

public sealed class TokenIdMapTests
{
    [Fact]
    public void MostFrequent_KeepsCommonestIds_AndMapsTheRestToUnknown()
    {
        var map = TokenIdMap.MostFrequent([7, 7, 7, 3, 3, 9, 1], 3);

        Assert.Equal([7, 3], map.BaseIds);
        Assert.Equal(2, map.UnknownId);
        Assert.Equal([0, 1, 2, 2, 0], map.Map([7, 3, 9, 1, 7]));
    }

    [Fact]
    public void Load_RemapsIds_WhenFolderHasTokenIdMap()
    {
        using var directory = new TempDirectory();
        TokenizerLoader.CopyGpt2Files(TestEnvironment.GptTokenizerDir, directory.Path);
        // "Hello world" is GPT-2 [15496, 995]; keep only " world".
        new TokenIdMap { BaseIds = [995, 11] }.Save(directory.Path);

        var tokenizer = TokenizerLoader.Load(directory.Path);

        Assert.Equal([2, 0], tokenizer.EncodeToIds("Hello world"));
        Assert.Equal(" world", tokenizer.Decode([2, 0]));
    }
}
