using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Domain.Storage;

namespace Optimizer.Worker.Execution;

/// <summary>Uploads an output folder as a new model's files (the row is saved by the runner).</summary>
public static class ModelPublisher
{
    /// <summary>
    /// Creates the <see cref="Model"/> (id chosen up front so that its blob prefix is known and can be
    /// cleaned if anything fails later) and uploads every file of <paramref name="outputDir"/>.
    /// </summary>
    public static async Task<Model> UploadAsync(Job job, OutputModelInfo info, IReadOnlyList<string> sourceModelIds,
        string outputDir, IArtifactStore store, Model model, CancellationToken cancellationToken)
    {
        model.Architecture = info.Architecture;
        model.ParameterCount = info.ParameterCount;
        model.Dtype = info.Dtype;
        model.Quantization = info.Quantization;
        model.Sparsity = info.Sparsity;
        model.SparsityPattern = info.SparsityPattern;
        model.ParentJobId = job.Id;
        model.SourceModelIds = [.. sourceModelIds];
        var files = Directory.GetFiles(outputDir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(outputDir, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
        {
            throw new InvalidOperationException("The pipeline wrote no output files.");
        }
        foreach (var name in files)
        {
            await using var stream = File.OpenRead(Path.Combine(outputDir, name));
            var stored = await store.UploadAsync(model.BlobPrefix + name, stream, cancellationToken);
            model.AddFile(name, stored.SizeBytes, stored.Sha256);
        }
        return model;
    }
}
