using Optimizer.Worker.Modeling.Corpora;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Modeling.Corpora;

public sealed class MobyDickCorpusTests
{
    [Fact]
    public void Load_HoldsOutEveryTenthChapter_AndTrainsOnTheRest()
    {
        var corpus = MobyDickCorpus.Load(TestEnvironment.CorpusDir);

        var heldOut = corpus.HeldOutSections.Select(s => s.ChapterNumber).ToList();
        Assert.Equal(Enumerable.Range(1, 13).Select(i => (int?)(i * 10)), heldOut);
        Assert.Equal(135 + 3, corpus.Sections.Count);
        Assert.StartsWith("CHAPTER 10. A Bosom Friend.", corpus.HeldOutText);
        Assert.Contains("Call me Ishmael.", corpus.TrainText);
        Assert.DoesNotContain("CHAPTER 10. A Bosom Friend.", corpus.TrainText);
        var fraction = (double)corpus.HeldOutText.Length / (corpus.HeldOutText.Length + corpus.TrainText.Length);
        Assert.InRange(fraction, 0.05, 0.15);
    }

    [Fact]
    public void Load_Throws_WhenPackageIsMissing()
    {
        using var directory = new TempDirectory();

        Assert.Throws<DirectoryNotFoundException>(() => MobyDickCorpus.Load(directory.Path));
    }
}
