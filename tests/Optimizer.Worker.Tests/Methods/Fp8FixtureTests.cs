using Optimizer.Domain.Methods.Quantize.Fp8;
using Optimizer.Worker.Methods.Quantize.Fp8;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Methods;

/// <summary>FP8 on the trained fixture model, measured like the report measures it (issue 4: FP8 within 1 % of fp32).</summary>
public sealed class Fp8FixtureTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("e4m3", "channel", 0.01)]
    [InlineData("e4m3", "tensor", 0.01)]
    [InlineData("e5m2", "channel", 0.03)]
    public async Task RunAsync_KeepsHeldOutPerplexityWithinTolerance_OnFixtureModel(string format, string granularity, double maxIncrease)
    {
        var ct = TestContext.Current.CancellationToken;
        using var measurement = new FixtureMeasurement();
        var (_, result, _) = await measurement.RunAsync("quantize", "fp8",
            (context, token) => new Fp8Pipeline().RunAsync(context, new Fp8Options { Format = format, Granularity = granularity }, token), ct);

        var increase = result.CandidatePerplexity / result.BaselinePerplexity!.Value - 1;
        output.WriteLine($"fp8 {format} {granularity}: ppl {result.CandidatePerplexity:0.###} vs {result.BaselinePerplexity:0.###} " +
            $"({increase:P2}), KL {result.MeanKl:0.#####}, top-1 {result.Top1Agreement:0.####}");
        Assert.True(Math.Abs(increase) <= maxIncrease, $"perplexity change {increase:P2} beyond {maxIncrease:P0}");
        Assert.True(result.MeanKl >= 0);
    }
}
