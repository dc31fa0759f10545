namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>The services and fixtures that <c>scripts/test</c> starts and exports; a missing one is a failure, not a skip.</summary>
internal static class TestEnvironment
{
    public static string Postgres => Require("OPTIMIZER_TEST_PG");
    public static string Blob => Require("OPTIMIZER_TEST_BLOB");
    public static string FixtureDir => Require("OPTIMIZER_FIXTURE_DIR");
    public static string CorpusDir => Require("OPTIMIZER_CORPUS_DIR");
    /// <summary>PostgreSQL's server binaries (initdb, pg_ctl), for the test that restarts a cluster of its own.</summary>
    public static string PostgresBin => Require("OPTIMIZER_TEST_PG_BIN");

    /// <summary>The checkout's root (the folder holding Optimizer.sln).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the suite with scripts/test, which starts PostgreSQL and Azurite and builds the fixture model.");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Optimizer.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Optimizer.sln not found above " + AppContext.BaseDirectory);
    }
}
