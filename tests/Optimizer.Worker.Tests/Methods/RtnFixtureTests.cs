using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Worker.Methods.Quantize.Rtn;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Methods;

/// <summary>RTN on the trained fixture model, measured like the report measures it (ALGORITHMS.md 1.1 reference behaviour).</summary>
public sealed class RtnFixtureTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(8, 128, 0.01)]
    [InlineData(4, 128, 0.05)]
    [InlineData(3, 128, 0.15)]
    public async Task RunAsync_KeepsHeldOutPerplexityWithinTolerance_OnFixtureModel(int bits, int groupSize, double maxIncrease)
    {
        var ct = TestContext.Current.CancellationToken;
        using var measurement = new FixtureMeasurement();
        var (_, result, _) = await measurement.RunAsync("quantize", "rtn",
            (context, token) => new RtnPipeline().RunAsync(context, new RtnOptions { Bits = bits, GroupSize = groupSize }, token), ct);

        var increase = result.CandidatePerplexity / result.BaselinePerplexity!.Value - 1;
        output.WriteLine($"w{bits}g{groupSize}: ppl {result.CandidatePerplexity:0.###} vs {result.BaselinePerplexity:0.###} " +
            $"(+{increase:P2}), KL {result.MeanKl:0.#####}, top-1 {result.Top1Agreement:0.####}");
        Assert.True(increase <= maxIncrease, $"perplexity increase {increase:P2} > {maxIncrease:P0}");
        Assert.True(result.MeanKl >= 0);
    }
}
