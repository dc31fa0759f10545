using Optimizer.Domain.Methods.Quantize.Awq;
using Optimizer.Domain.Methods.Quantize.BitStack;
using Optimizer.Domain.Methods.Quantize.D2Quant;
using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Domain.Methods.Quantize.Fp8;
using Optimizer.Domain.Methods.Quantize.Gptq;
using Optimizer.Domain.Methods.Quantize.Ptqtp;
using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Awq;
using Optimizer.Worker.Methods.Quantize.BitStack;
using Optimizer.Worker.Methods.Quantize.D2Quant;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Methods.Quantize.Fp8;
using Optimizer.Worker.Methods.Quantize.Gptq;
using Optimizer.Worker.Methods.Quantize.Ptqtp;
using Optimizer.Worker.Methods.Quantize.Rtn;

namespace Optimizer.Bench.Quantize;

/// <summary>One row of the quantization table: a method at a bit width and how to run it.</summary>
/// <param name="Method">Shown in the table (and used by the summary checks).</param>
/// <param name="Bits">Nominal bits per weight.</param>
/// <param name="Run">Runs the pipeline; calibrating pipelines read the built-in calibration text from <c>datasets</c>.</param>
internal sealed record QuantizeRow(string Method, int Bits, Func<PipelineContext, IDatasetText, CancellationToken, Task<PipelineResult>> Run);

/// <summary>The rows of <c>bench/run quantize</c>, in table order (the fp32 row is always first). A new method is one line.</summary>
internal static class QuantizeRows
{
    /// <summary>Calibration windows of the calibrated methods (their default is 128; 32 keeps the table quick on 2 cores).</summary>
    public const int CalibrationSamples = 32;

    public static readonly QuantizeRow[] All =
    [
        Rtn(8), Rtn(4), Rtn(3), Rtn(2),
        new("fp8-e4m3", 8, (c, _, t) => new Fp8Pipeline().RunAsync(c, new Fp8Options(), t)),
        Gptq(8), Gptq(4), Gptq(3), Gptq(2),
        Gptq(3, GptqOptions.Gptaq), Gptq(3, GptqOptions.ResComp),
        Awq(8), Awq(4), Awq(3), Awq(2),
        D2Quant(3), D2Quant(2),
        new("fp4-e2m1-g32", 4, (c, d, t) => new Fp4Pipeline(d).RunAsync(c, new Fp4Options(), t)),
        new("fp4-e2m1-g32+lorc8", 4, (c, d, t) => new Fp4Pipeline(d).RunAsync(c, new Fp4Options { LorcRank = 8 }, t)),
        new("fp4-e2m1-g32+gptq", 4, (c, d, t) => new Fp4Pipeline(d).RunAsync(c,
            new Fp4Options { Rounding = Fp4Options.GptqRounding, CalibrationSamples = CalibrationSamples }, t)),
        new("ptqtp-g128", 2, (c, _, t) => new PtqtpPipeline().RunAsync(c, new PtqtpOptions(), t)),
        // About one bit per block plus the rank-4 factors; evaluated with every block loaded.
        new("bitstack-n4k4", 4, (c, _, t) => new BitStackPipeline().RunAsync(c, new BitStackOptions { Blocks = 4, Rank = 4 }, t)),
    ];

    private static QuantizeRow Rtn(int bits) =>
        new("rtn", bits, (c, _, t) => new RtnPipeline().RunAsync(c, new RtnOptions { Bits = bits }, t));

    private static QuantizeRow Gptq(int bits, string correction = GptqOptions.NoCorrection) =>
        new(correction == GptqOptions.NoCorrection ? "gptq" : $"gptq+{correction}", bits,
            (c, d, t) => new GptqPipeline(d).RunAsync(c, new GptqOptions { Bits = bits, Correction = correction, CalibrationSamples = CalibrationSamples }, t));

    private static QuantizeRow D2Quant(int bits) =>
        new("d2quant", bits, (c, d, t) => new D2QuantPipeline(d).RunAsync(c, new D2QuantOptions { Bits = bits, CalibrationSamples = CalibrationSamples }, t));

    private static QuantizeRow Awq(int bits) =>
        new("awq", bits, (c, d, t) => new AwqPipeline(d).RunAsync(c, new AwqOptions { Bits = bits, CalibrationSamples = CalibrationSamples }, t));
}
