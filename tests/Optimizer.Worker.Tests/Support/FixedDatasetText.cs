using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling.Corpora;

namespace Optimizer.Worker.Tests.Support;

/// <summary>An <see cref="IDatasetText"/> that returns one text for any dataset (calibrating pipelines run without a database).</summary>
public sealed class FixedDatasetText(string text) : IDatasetText
{
    /// <summary>The Moby-Dick training chapters, what the built-in calibration dataset holds.</summary>
    public static FixedDatasetText MobyDickCalibration() => new(MobyDickCorpus.Load(TestEnvironment.CorpusDir).TrainText);

    public Task<string> LoadAsync(string tenantId, string datasetId, CancellationToken cancellationToken) => Task.FromResult(text);
}
