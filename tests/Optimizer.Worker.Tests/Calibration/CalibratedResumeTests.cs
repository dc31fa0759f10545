using System.Text.Json;
using Optimizer.Domain.Methods.Prune.SparseGpt;
using Optimizer.Domain.Methods.Prune.Wanda;
using Optimizer.Domain.Methods.Quantize.Awq;
using Optimizer.Domain.Methods.Quantize.D2Quant;
using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Domain.Methods.Quantize.Gptq;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Prune.SparseGpt;
using Optimizer.Worker.Methods.Prune.Wanda;
using Optimizer.Worker.Methods.Quantize.Awq;
using Optimizer.Worker.Methods.Quantize.D2Quant;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Methods.Quantize.Gptq;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Calibration;

/// <summary>
/// Crash → resume for the layer-by-layer methods: a run that dies right after block 1 of 3 was checkpointed continues
/// from the checkpoints of blocks 0 and 1 on the next attempt, and writes the bytes an uninterrupted run writes.
/// </summary>
public sealed class CalibratedResumeTests
{
    private const int Blocks = 3;

    public static TheoryData<string> Methods => ["gptq", "gptq-gptaq", "awq", "d2quant", "fp4-gptq", "wanda", "sparsegpt"];

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task ResumedRun_WritesSameModelAsUninterruptedRun_WhenCrashedAfterBlock1(string method)
    {
        using var temp = new TempDirectory();
        var sourceDir = temp.File("source");
        TinyLlama.Write(sourceDir, vocab: 50257, gpt2TokenizerDir: TestEnvironment.GptTokenizerDir, layers: Blocks);
        var (resumed, restored, reference) = await ResumeRun.CrashThenResumeAsync(temp, sourceDir, method, new CrashingProgress("layer 1"),
            context => RunAsync(method, context));

        Assert.Equal(2, restored);
        Assert.Equal(ResumeRun.ModelSha256(temp, "reference"), ResumeRun.ModelSha256(temp, "second"));
        Assert.Equal(File.ReadAllText(temp.File("reference/out/config.json")), File.ReadAllText(temp.File("second/out/config.json")));
        // Totals kept across blocks (GPTQ's loss, AWQ's folded groups, D²Quant's deviations) come back exactly too.
        Assert.Equal(JsonSerializer.Serialize(reference.Metrics), JsonSerializer.Serialize(resumed.Metrics));
    }

    private static async Task<PipelineResult> RunAsync(string method, PipelineContext context)
    {
        var calibration = FixedDatasetText.MobyDickCalibration();
        var ct = CancellationToken.None;
        return method switch
        {
            "gptq" => await new GptqPipeline(calibration).RunAsync(context, new GptqOptions
            {
                Bits = 4, GroupSize = 32, CalibrationSamples = 6, SeqLen = 32,
            }, ct),
            "gptq-gptaq" => await new GptqPipeline(calibration).RunAsync(context, new GptqOptions
            {
                Bits = 3, GroupSize = 32, CalibrationSamples = 6, SeqLen = 32, Correction = GptqOptions.Gptaq,
            }, ct),
            "awq" => await new AwqPipeline(calibration).RunAsync(context, new AwqOptions
            {
                Bits = 4, GroupSize = 32, CalibrationSamples = 6, SeqLen = 32, Grid = 4,
            }, ct),
            "d2quant" => await new D2QuantPipeline(calibration).RunAsync(context, new D2QuantOptions
            {
                Bits = 2, GroupSize = 32, CalibrationSamples = 6, SeqLen = 32, Grid = 4,
            }, ct),
            "fp4-gptq" => await new Fp4Pipeline(calibration).RunAsync(context, new Fp4Options
            {
                GroupSize = 32, Rounding = Fp4Options.GptqRounding, CalibrationSamples = 6, SeqLen = 32,
            }, ct),
            "wanda" => await new WandaPipeline(calibration).RunAsync(context, new WandaOptions
            {
                Sparsity = 0.5, CalibrationSamples = 6, SeqLen = 32,
            }, ct),
            "sparsegpt" => await new SparseGptPipeline(calibration).RunAsync(context, new SparseGptOptions
            {
                Sparsity = 0.5, CalibrationSamples = 6, SeqLen = 32, BlockSize = 32,
            }, ct),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
        };
    }
}
