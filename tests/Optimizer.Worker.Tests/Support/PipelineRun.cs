using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Tests.Support;

/// <summary>A pipeline context over a local source folder, for pipeline tests that need no database.</summary>
public static class PipelineRun
{
    public static PipelineContext Context(string workDir, string sourceDir, string outputDir, string method, RecordingProgress? progress = null) =>
        Context(new Job("t_test", "quantize", method, "{}"), workDir, sourceDir, outputDir, progress ?? new RecordingProgress(), null);

    /// <summary>A context for <paramref name="job"/>, with the job's checkpoint when a test resumes a run.</summary>
    public static PipelineContext Context(Job job, string workDir, string sourceDir, string outputDir, IProgressReporter progress,
        JobCheckpoint? checkpoint)
    {
        Directory.CreateDirectory(outputDir);
        return new PipelineContext(job, [new SourceModel(new Model("t_test", "tiny"), sourceDir)],
            workDir, outputDir, progress, new NoModels(), NullLogger.Instance, checkpoint);
    }

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not used");
    }
}
