using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Tests.Support;

/// <summary>
/// Runs one pipeline on the trained fixture model and measures its output the way the report does: held-out
/// text, 256-token windows, the first 4,096 tokens, against the fixture itself.
/// </summary>
internal sealed class FixtureMeasurement : IDisposable
{
    private readonly TempDirectory _work = new();
    private int _runs;

    public static string SourceDir => Path.Combine(TestEnvironment.FixtureDir, "model");

    /// <summary>Runs <paramref name="pipeline"/> into a fresh output folder and compares that folder with the fixture.</summary>
    public async Task<(PipelineResult Result, LanguageModelEvaluation Comparison, string OutputDir)> RunAsync(
        string type, string method, Func<PipelineContext, CancellationToken, Task<PipelineResult>> pipeline, CancellationToken ct)
    {
        var (result, outputDir) = await RunOnlyAsync(type, method, pipeline, ct);
        var heldOut = await File.ReadAllTextAsync(Path.Combine(TestEnvironment.FixtureDir, "heldout.txt"), ct);
        var comparison = await new LlamaLanguageModelComparer().CompareAsync(
            new LanguageModelComparisonRequest(outputDir, SourceDir, heldOut, 256, 4096), ct);
        return (result, comparison, outputDir);
    }

    /// <summary>Runs <paramref name="pipeline"/> into a fresh output folder without measuring it.</summary>
    public async Task<(PipelineResult Result, string OutputDir)> RunOnlyAsync(
        string type, string method, Func<PipelineContext, CancellationToken, Task<PipelineResult>> pipeline, CancellationToken ct)
    {
        var outputDir = Path.Combine(_work.Path, $"output-{++_runs}");
        Directory.CreateDirectory(outputDir);
        var context = new PipelineContext(new Job("t_test", type, method, "{}"),
            [new SourceModel(new Model("t_test", "fixture"), SourceDir)], _work.Path, outputDir, new RecordingProgress(),
            new NoModels(), NullLogger.Instance);
        return (await pipeline(context, ct), outputDir);
    }

    public void Dispose() => _work.Dispose();

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not used");
    }
}
