using Optimizer.Domain.Methods.Merge.Dare;
using Optimizer.Worker.Methods.Merge.Shared;

namespace Optimizer.Worker.Methods.Merge.Dare;

/// <summary>DARE's options as task-vector settings; <c>dare_ties</c> adds the sign election.</summary>
public static class DareSettings
{
    public static TaskVectorSettings From(DareOptions options, bool signConsensus) =>
        new(Sparsification.Random, signConsensus, options.KeepProbability, RescaleOf(options.Rescale), options.Seed, options.Normalize, options.Lambda);

    public static DareRescale RescaleOf(string rescale) => rescale switch
    {
        DareOptions.RescaleExpectation => DareRescale.Expectation,
        DareOptions.RescaleNone => DareRescale.None,
        _ => DareRescale.L1,
    };
}
