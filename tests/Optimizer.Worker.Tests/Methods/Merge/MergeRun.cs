using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Methods.Merge;

/// <summary>A merge job's context over local folders: each folder is a source model whose id is its folder name.</summary>
public static class MergeRun
{
    public static PipelineContext Context(string workDir, string method, IReadOnlyList<(string Dir, double Weight)> models,
        string? baseDir = null, IReadOnlyList<string>? extra = null)
    {
        var outputDir = Path.Combine(workDir, "out-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(outputDir);
        var job = new Job("t_test", "merge", method, "{}")
        {
            ModelsJson = models.Count == 0 ? null
                : JsonSerializer.Serialize(models.Select(m => new { model_id = IdOf(m.Dir), weight = m.Weight }), OptimizerJson.Options),
            BaseModelId = baseDir is null ? null : IdOf(baseDir),
        };
        var dirs = models.Select(m => m.Dir).Concat(baseDir is null ? [] : [baseDir]).Concat(extra ?? []).Distinct();
        var sources = dirs.Select(d => new SourceModel(new Model("t_test", IdOf(d), IdOf(d)), d)).ToList();
        return new PipelineContext(job, sources, workDir, outputDir, new RecordingProgress(), new NoModels(), NullLogger.Instance);
    }

    /// <summary>Same dtype, shape and every element.</summary>
    public static bool Same(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape))
        {
            return false;
        }
        using var equal = a.eq(b).all();
        return equal.item<bool>();
    }

    public static string IdOf(string dir) => "mdl_" + Path.GetFileName(dir);

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) =>
            throw new JobFailedException(JobErrorCodes.InvalidModel, $"Model {modelId} does not exist.");
    }
}
