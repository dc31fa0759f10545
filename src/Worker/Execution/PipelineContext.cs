using Microsoft.Extensions.Logging;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;

namespace Optimizer.Worker.Execution;

/// <summary>Everything a pipeline needs for one job; nothing static.</summary>
public sealed class PipelineContext(
    Job job,
    IReadOnlyList<SourceModel> sources,
    string workDir,
    string outputDir,
    IProgressReporter progress,
    IModelFetcher models,
    ILogger logger,
    JobCheckpoint? checkpoint = null)
{
    public Job Job { get; } = job;
    /// <summary>The job's input models, downloaded: <c>Job.ModelId</c> first, then merge inputs.</summary>
    public IReadOnlyList<SourceModel> Sources { get; } = sources;
    /// <summary>Private scratch folder of this job (deleted at the end).</summary>
    public string WorkDir { get; } = workDir;
    /// <summary>Where the output model is written (Hugging Face layout); uploaded by the runner.</summary>
    public string OutputDir { get; } = outputDir;
    public IProgressReporter Progress { get; } = progress;
    /// <summary>Downloads further models (e.g. an evaluation baseline) into the job's scratch folder.</summary>
    public IModelFetcher Models { get; } = models;
    public ILogger Logger { get; } = logger;
    /// <summary>
    /// Per-layer (or per-step) checkpoints that survive a worker crash; null when the pipeline runs outside a job
    /// (tests, measurements), where there is nothing to resume.
    /// </summary>
    public JobCheckpoint? Checkpoint { get; } = checkpoint;

    /// <summary>The first source model; throws <see cref="JobFailedException"/> when the job has none.</summary>
    public SourceModel Source => Sources.Count > 0
        ? Sources[0]
        : throw new JobFailedException(JobErrorCodes.InvalidModel, "The job names no source model.");
}

/// <summary>A registered model and the local folder its files were downloaded to.</summary>
public sealed record SourceModel(Model Model, string LocalDir);

/// <summary>Fetches registered models to local folders.</summary>
public interface IModelFetcher
{
    /// <summary>Downloads (once per job) the files of <paramref name="modelId"/>.</summary>
    /// <exception cref="JobFailedException">Code <c>invalid_model</c> when the model does not exist or is not ready.</exception>
    Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken);
}
