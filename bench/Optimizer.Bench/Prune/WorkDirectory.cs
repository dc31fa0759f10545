namespace Optimizer.Bench.Prune;

/// <summary>A temporary folder for the benchmark's output models, deleted at the end.</summary>
internal sealed class WorkDirectory : IDisposable
{
    private int _folders;

    public string Path { get; } = Directory.CreateTempSubdirectory("optimizer-prune-bench-").FullName;

    public string NewFolder() => Directory.CreateDirectory(System.IO.Path.Combine(Path, $"output-{++_folders}")).FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
