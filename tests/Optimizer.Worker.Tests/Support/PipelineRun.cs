using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Tests.Support;

/// <summary>A pipeline context over a local source folder, for pipeline tests that need no database.</summary>
public static class PipelineRun
{
    public static PipelineContext Context(string workDir, string sourceDir, string outputDir, string method, RecordingProgress? progress = null)
    {
        Directory.CreateDirectory(outputDir);
        return new PipelineContext(new Job("t_test", "quantize", method, "{}"), [new SourceModel(new Model("t_test", "tiny"), sourceDir)],
            workDir, outputDir, progress ?? new RecordingProgress(), new NoModels(), NullLogger.Instance);
    }

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not used");
    }
}
