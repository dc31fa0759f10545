namespace Optimizer.Infra.Tests.Support;

/// <summary>Paths in the checkout these tests read (the manifests, the Dockerfiles and the apps' sources).</summary>
internal static class Repository
{
    /// <summary>The folder holding Optimizer.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathOf(parts));

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
