using System.Text.Json.Nodes;
using Optimizer.Domain.Formats.Safetensors;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling;

/// <summary>
/// A local model folder in Hugging Face layout: <c>config.json</c> plus either one <c>model.safetensors</c>
/// or shards listed in <c>model.safetensors.index.json</c> (tokenizer files may sit beside them).
/// </summary>
/// <remarks>
/// Shards are memory-mapped when the folder is opened and tensors are read one at a time, so a model
/// larger than memory can be walked layer by layer. Dispose the folder to unmap the files.
/// </remarks>
public sealed class ModelFolder : IDisposable
{
    public const string ConfigFileName = "config.json";
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, SafetensorsFile> _byTensor;
    private readonly IReadOnlyList<IPackedWeightReader> _packedReaders;

    private ModelFolder(string path, HfConfig config, List<SafetensorsFile> files,
        Dictionary<string, SafetensorsFile> byTensor, IReadOnlyList<IPackedWeightReader> packedReaders)
    {
        Path = path;
        Config = config;
        _files = files;
        _byTensor = byTensor;
        _packedReaders = packedReaders;
    }

    public string Path { get; }
    public HfConfig Config { get; }
    /// <summary>Every tensor name stored in the folder, across shards, in ordinal order.</summary>
    public IReadOnlyList<string> TensorNames => _byTensor.Keys.Order(StringComparer.Ordinal).ToList();
    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>Opens a folder; <paramref name="packedReaders"/> reconstruct weights stored packed (see <see cref="ReadWeight"/>).</summary>
    public static ModelFolder Open(string path, IEnumerable<IPackedWeightReader>? packedReaders = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var configPath = System.IO.Path.Combine(path, ConfigFileName);
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"model folder {path} has no {ConfigFileName}", configPath);
        }
        var config = HfConfig.Load(configPath);
        var files = new List<SafetensorsFile>();
        var byTensor = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var shard in ShardFileNames(path))
            {
                var file = SafetensorsFile.Open(System.IO.Path.Combine(path, shard));
                files.Add(file);
                foreach (var entry in file.Tensors)
                {
                    if (!byTensor.TryAdd(entry.Name, file))
                    {
                        throw new InvalidDataException($"tensor '{entry.Name}' appears in more than one shard of {path}");
                    }
                }
            }
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
        return new ModelFolder(path, config, files, byTensor, packedReaders?.ToList() ?? []);
    }

    public bool ContainsTensor(string name) => _byTensor.ContainsKey(name);

    public TensorEntry GetEntry(string name) => FileOf(name).GetEntry(name);

    /// <summary>Reads a stored tensor as it is (its own dtype; FP8 decoded to float32).</summary>
    public Tensor ReadTensor(string name) => FileOf(name).ReadTensor(name);

    /// <summary>The raw bytes of a stored tensor; valid until the folder is disposed.</summary>
    public ReadOnlySpan<byte> GetTensorBytes(string name) => FileOf(name).GetBytes(name);

    /// <summary>
    /// Reads a weight for computation: the dense tensor when stored (FP8 tensors go to the readers first, which
    /// apply their scales), otherwise the first packed reader that recognises a packed form of it. Throws <see cref="KeyNotFoundException"/> when neither applies.
    /// </summary>
    public Tensor ReadWeight(string name)
    {
        // An FP8 tensor is stored under the dense name but needs its scale: the readers get the first word.
        var stored = _byTensor.ContainsKey(name);
        if (stored && !GetEntry(name).Dtype.IsFp8())
        {
            return ReadTensor(name);
        }
        foreach (var reader in _packedReaders)
        {
            if (reader.TryRead(this, name, out var weight))
            {
                return weight;
            }
        }
        if (stored)
        {
            return ReadTensor(name);
        }
        throw new KeyNotFoundException(_packedReaders.Count == 0
            ? $"weight '{name}' is not stored in {Path}"
            : $"weight '{name}' is neither stored in {Path} nor readable by {string.Join(", ", _packedReaders.Select(r => r.GetType().Name))}");
    }

    /// <summary>True when <see cref="ReadWeight"/> would find the weight, dense or packed.</summary>
    public bool HasWeight(string name)
    {
        if (_byTensor.ContainsKey(name))
        {
            return true;
        }
        foreach (var reader in _packedReaders)
        {
            if (reader.TryRead(this, name, out var weight))
            {
                weight.Dispose();
                return true;
            }
        }
        return false;
    }

    private SafetensorsFile FileOf(string name) =>
        _byTensor.TryGetValue(name, out var file)
            ? file
            : throw new KeyNotFoundException($"tensor '{name}' is not stored in {Path}");

    private static IEnumerable<string> ShardFileNames(string path)
    {
        var indexPath = System.IO.Path.Combine(path, IndexFileName);
        if (File.Exists(indexPath))
        {
            var index = JsonNode.Parse(File.ReadAllText(indexPath)) as JsonObject;
            if (index?["weight_map"] is not JsonObject weightMap)
            {
                throw new InvalidDataException($"{indexPath} has no weight_map object");
            }
            return weightMap.Select(p => p.Value?.GetValue<string>()
                    ?? throw new InvalidDataException($"{indexPath}: weight_map entry '{p.Key}' is not a file name"))
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToList();
        }
        if (File.Exists(System.IO.Path.Combine(path, SingleFileName)))
        {
            return [SingleFileName];
        }
        throw new FileNotFoundException($"model folder {path} has neither {SingleFileName} nor {IndexFileName}");
    }

    public void Dispose() => _files.ForEach(f => f.Dispose());
}
