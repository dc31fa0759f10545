using Optimizer.Domain.Methods.Quantize.Awq;
using Optimizer.Domain.Methods.Quantize.Gptq;
using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Worker.Methods.Quantize.Awq;
using Optimizer.Worker.Methods.Quantize.Gptq;
using Optimizer.Worker.Methods.Quantize.Rtn;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Methods;

/// <summary>GPTQ and AWQ on the trained fixture model against RTN at the same grid (4 bits, g128), measured like the report.</summary>
public sealed class CalibratedQuantizeFixtureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task GptqAndAwq_AreNoWorseThanRtn_At4BitsOnFixtureModel()
    {
        var ct = TestContext.Current.CancellationToken;
        using var measurement = new FixtureMeasurement();
        var calibration = FixedDatasetText.MobyDickCalibration();

        var (_, rtn, _) = await measurement.RunAsync("quantize", "rtn",
            (context, token) => new RtnPipeline().RunAsync(context, new RtnOptions { Bits = 4, GroupSize = 128 }, token), ct);
        var (gptqResult, gptq, gptqDir) = await measurement.RunAsync("quantize", "gptq",
            (context, token) => new GptqPipeline(calibration).RunAsync(context,
                new GptqOptions { Bits = 4, GroupSize = 128, CalibrationSamples = 64, SeqLen = 256 }, token), ct);
        var (awqResult, awq, awqDir) = await measurement.RunAsync("quantize", "awq",
            (context, token) => new AwqPipeline(calibration).RunAsync(context,
                new AwqOptions { Bits = 4, GroupSize = 128, CalibrationSamples = 64, SeqLen = 256 }, token), ct);

        output.WriteLine($"fp32 {rtn.BaselinePerplexity:0.###}; w4g128: rtn {rtn.CandidatePerplexity:0.###} (KL {rtn.MeanKl:0.#####}, " +
            $"top-1 {rtn.Top1Agreement:0.###}); gptq {gptq.CandidatePerplexity:0.###} (KL {gptq.MeanKl:0.#####}, top-1 {gptq.Top1Agreement:0.###}, " +
            $"loss {gptqResult.Metrics["gptq_loss"]}); awq {awq.CandidatePerplexity:0.###} (KL {awq.MeanKl:0.#####}, top-1 {awq.Top1Agreement:0.###}, " +
            $"groups folded {awqResult.Metrics["scale_groups_folded"]})");
        using (var folder = ModelFolder.Open(gptqDir))
        {
            Assert.Equal("gptq", folder.Config.QuantizationConfig!["quant_method"]!.GetValue<string>());
            Assert.True(folder.Config.QuantizationConfig!["desc_act"]!.GetValue<bool>());
            Assert.True(folder.ContainsTensor("model.layers.0.self_attn.q_proj.g_idx"));
            Assert.False(folder.ContainsTensor("model.layers.0.self_attn.q_proj.weight"));
        }
        using (var folder = ModelFolder.Open(awqDir))
        {
            Assert.Equal("awq", folder.Config.QuantizationConfig!["quant_method"]!.GetValue<string>());
            Assert.False(folder.ContainsTensor("model.layers.0.mlp.down_proj.g_idx"));
        }
        // Half a percent of perplexity slack for noise: the fixture is small and briefly trained, and RTN already costs little.
        Assert.True(gptq.CandidatePerplexity <= rtn.CandidatePerplexity * 1.005, $"GPTQ perplexity {gptq.CandidatePerplexity} > RTN {rtn.CandidatePerplexity}");
        Assert.True(awq.CandidatePerplexity <= rtn.CandidatePerplexity * 1.005, $"AWQ perplexity {awq.CandidatePerplexity} > RTN {rtn.CandidatePerplexity}");
    }
}
