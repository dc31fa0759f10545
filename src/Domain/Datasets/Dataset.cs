using Optimizer.Domain.Common;

namespace Optimizer.Domain.Datasets;

/// <summary>An uploaded (or built-in) dataset: plain text or one of the jsonl forms.</summary>
public sealed class Dataset
{
    public const int MaxNameLength = 200;
    /// <summary>Built-in datasets have fixed ids with this prefix and no tenant.</summary>
    public const string BuiltinPrefix = "ds_builtin_";

    private Dataset()
    {
    }

    public Dataset(string? tenantId, string name, DatasetFormat format, string fileName, string? id = null)
    {
        Id = id ?? Ids.New("ds");
        TenantId = tenantId;
        Name = name;
        Format = format;
        FileName = fileName;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    public string Id { get; private set; } = "";
    /// <summary>Null for built-in datasets, which every tenant can read.</summary>
    public string? TenantId { get; private set; }
    public string Name { get; private set; } = "";
    public DatasetFormat Format { get; private set; }
    public string FileName { get; private set; } = "";
    public long Records { get; set; }
    public long SizeBytes { get; set; }
    public string Sha256 { get; set; } = "";
    public DateTimeOffset CreatedAt { get; private set; }

    public bool IsBuiltin => TenantId is null;

    public string BlobPath => IsBuiltin
        ? $"builtin/datasets/{Id}/{FileName}"
        : $"tenants/{TenantId}/datasets/{Id}/{FileName}";
}

public enum DatasetFormat
{
    Text,
    JsonlText,
    JsonlPairs,
    JsonlChoices,
    /// <summary><c>{"prompt", "rubric": [...]}</c> per line: prompts with per-prompt rubric items (evaluation tasks).</summary>
    JsonlPrompts,
}
