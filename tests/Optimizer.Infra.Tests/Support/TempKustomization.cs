namespace Optimizer.Infra.Tests.Support;

/// <summary>A scratch kustomization in the temp folder whose text may say <c>{base}</c> for <c>infra/k8s/base</c>.</summary>
internal sealed class TempKustomization : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("optimizer-k8s-").FullName;

    public void Write(string name, string text) =>
        File.WriteAllText(System.IO.Path.Combine(Path, name), text.Replace("{base}", Repository.PathOf("infra", "k8s", "base")));

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
