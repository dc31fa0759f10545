using Optimizer.Domain.Methods.Quantize.BitStack;
using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Domain.Methods.Quantize.Ptqtp;
using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods;
using Optimizer.Worker.Methods.Quantize.BitStack;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Methods.Quantize.Ptqtp;
using Optimizer.Worker.Methods.Quantize.Rtn;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Evaluation;

/// <summary>The report's bits per weight, read from the stored artifact, for every quantized layout the worker writes.</summary>
public sealed class WeightStatsTests
{
    public static TheoryData<string, bool> Layouts => new()
    {
        { "fp4", true }, { "fp4+lorc", false }, { "fp4+row_pow2", true }, { "ptqtp", false }, { "bitstack", false }, { "rtn", true },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task Read_CountsEveryQuantizedLinear_AsTheQuantizeJobDoes(string layout, bool sizeSetByBits)
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        var outputDir = Path.Combine(work.Path, "output");
        TinyLlama.Write(sourceDir);
        var context = PipelineRun.Context(work.Path, sourceDir, outputDir, layout.Split('+')[0]);

        var result = await Run(layout, context);
        var stats = WeightStats.Read(outputDir, result.Output!.Quantization!.Bits);

        using var source = ModelFolder.Open(sourceDir);
        var linearWeights = source.TensorNames.Where(n => ModelFiles.IsDecoderLinear(n, source.GetEntry(n))).Sum(n => source.GetEntry(n).ElementCount);
        Assert.Equal(linearWeights, stats.QuantizedParameters);
        var bitsPerWeight = new EvaluationMetrics { QuantizedParameters = stats.QuantizedParameters, QuantizedBytes = stats.QuantizedBytes }
            .ToDictionary()["bits_per_weight"];
        // Bits in the report and in the job's metrics agree (the job rounds to 4 decimals).
        var expected = result.Metrics.TryGetValue("bits_per_weight", out var metric) && metric is double m ? m : StoredBitsOf(outputDir, sourceDir);
        Assert.Equal(expected, (double)bitsPerWeight!, 3);
        Assert.Equal(sizeSetByBits, stats.SizeSetByBits);
        // Everything else (embeddings, norms, lm_head) is counted apart: the two parts are the file but its header.
        Assert.InRange(stats.SizeBytes - stats.QuantizedBytes - stats.OtherBytes, 8, 64 * 1024);
    }

    private static Task<PipelineResult> Run(string layout, PipelineContext context) => layout switch
    {
        "fp4" => new Fp4Pipeline(new FixedDatasetText("")).RunAsync(context, new Fp4Options(), CancellationToken.None),
        "fp4+lorc" => new Fp4Pipeline(new FixedDatasetText("")).RunAsync(context, new Fp4Options { LorcRank = 4 }, CancellationToken.None),
        "fp4+row_pow2" => new Fp4Pipeline(new FixedDatasetText("")).RunAsync(context, new Fp4Options { ScaleConstraint = "row_pow2" }, CancellationToken.None),
        "ptqtp" => new PtqtpPipeline().RunAsync(context, new PtqtpOptions { GroupSize = 32, MaxIters = 5 }, CancellationToken.None),
        "bitstack" => new BitStackPipeline().RunAsync(context, new BitStackOptions { Blocks = 3, Rank = 2 }, CancellationToken.None),
        _ => new RtnPipeline().RunAsync(context, new RtnOptions { Bits = 4, GroupSize = 32 }, CancellationToken.None),
    };

    /// <summary>For RTN (no bits metric): qweight, qzeros, scales and g_idx bytes of the decoder linears over their weights.</summary>
    private static double StoredBitsOf(string outputDir, string sourceDir)
    {
        using var source = ModelFolder.Open(sourceDir);
        using var output = ModelFolder.Open(outputDir);
        var linears = source.TensorNames.Where(n => ModelFiles.IsDecoderLinear(n, source.GetEntry(n))).ToList();
        var prefixes = linears.Select(n => n[..^"weight".Length]).ToList();
        var bytes = output.TensorNames.Where(n => prefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)) && !n.EndsWith(".bias", StringComparison.Ordinal))
            .Sum(n => output.GetEntry(n).ByteLength);
        return 8.0 * bytes / linears.Sum(n => source.GetEntry(n).ElementCount);
    }
}
