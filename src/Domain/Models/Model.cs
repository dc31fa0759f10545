using Optimizer.Domain.Common;

namespace Optimizer.Domain.Models;

/// <summary>A model in Hugging Face layout, stored as a folder of files in blob storage.</summary>
public sealed class Model
{
    public const int MaxNameLength = 200;
    private readonly List<ModelFile> _files = [];

    private Model()
    {
    }

    public Model(string tenantId, string name, string? id = null)
    {
        Id = id ?? Ids.New("mdl");
        TenantId = tenantId;
        Name = name;
        Status = ModelStatus.Ready;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    public string Id { get; private set; } = "";
    public string TenantId { get; private set; } = "";
    public string Name { get; private set; } = "";
    public ModelStatus Status { get; private set; }
    public string Architecture { get; set; } = "";
    public long ParameterCount { get; set; }
    public string Dtype { get; set; } = "";
    public long SizeBytes { get; private set; }
    public QuantizationInfo? Quantization { get; set; }
    /// <summary>Achieved fraction of zero weights over the pruned layers (null when the model was not pruned).</summary>
    public double? Sparsity { get; set; }
    /// <summary>How the zeros are laid out: <c>unstructured</c>, <c>N:M</c> (e.g. <c>2:4</c>) or <c>monarch</c>; null when not pruned.</summary>
    public string? SparsityPattern { get; set; }
    /// <summary>The job that produced this model, if any.</summary>
    public string? ParentJobId { get; set; }
    public List<string> SourceModelIds { get; set; } = [];
    public DateTimeOffset CreatedAt { get; private set; }
    public IReadOnlyCollection<ModelFile> Files => _files;

    /// <summary>Blob folder holding the model's files.</summary>
    public string BlobPrefix => $"tenants/{TenantId}/models/{Id}/";

    public void AddFile(string name, long sizeBytes, string sha256)
    {
        _files.Add(new ModelFile(Id, name, sizeBytes, sha256));
        SizeBytes += sizeBytes;
    }

    public void MarkFailed() => Status = ModelStatus.Failed;
}

public enum ModelStatus
{
    Ready,
    Failed,
}

/// <summary>One file of a model folder with its size and SHA-256 (hex).</summary>
public sealed class ModelFile
{
    private ModelFile()
    {
    }

    public ModelFile(string modelId, string name, long sizeBytes, string sha256)
    {
        ModelId = modelId;
        Name = name;
        SizeBytes = sizeBytes;
        Sha256 = sha256;
    }

    public string ModelId { get; private set; } = "";
    public string Name { get; private set; } = "";
    public long SizeBytes { get; private set; }
    public string Sha256 { get; private set; } = "";
}

/// <summary>How a model's weights are quantized (null on the model when they are not).</summary>
public sealed record QuantizationInfo(string Method, int Bits, int GroupSize, string Format);
