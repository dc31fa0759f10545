using Optimizer.Worker.Fixtures;
using Optimizer.Worker.Modeling.Corpora;
using Optimizer.Worker.Evaluation.Encoders;

namespace Optimizer.Worker.Tests.Support;

/// <summary>all-MiniLM-L6-v2 imported from its NuGet package (seconds) into a temp cache shared by the tests.</summary>
internal static class MiniLm
{
    private static readonly Lazy<string> s_modelDir = new(() =>
        MiniLmCommand.ImportCached(Path.Combine(Path.GetTempPath(), "optimizer-tests-minilm")));

    /// <summary>The imported model folder (Hugging Face layout).</summary>
    public static string ModelDir => s_modelDir.Value;

    /// <summary>Real sentences: the first <paramref name="count"/> usable sentences of Moby-Dick's held-out chapters.</summary>
    public static IReadOnlyList<string> Sentences(int count) =>
        SentenceSplitter.Split(MobyDickCorpus.Load(TestEnvironment.CorpusDir).HeldOutText, count);
}
