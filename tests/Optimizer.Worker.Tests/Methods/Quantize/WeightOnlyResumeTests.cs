using Optimizer.Domain.Methods.Prune.Monarch;
using Optimizer.Domain.Methods.Quantize.BitStack;
using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Domain.Methods.Quantize.Fp8;
using Optimizer.Domain.Methods.Quantize.Ptqtp;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Prune.Monarch;
using Optimizer.Worker.Methods.Quantize.BitStack;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Methods.Quantize.Fp8;
using Optimizer.Worker.Methods.Quantize.Ptqtp;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Methods.Quantize;

/// <summary>
/// Crash → resume for the weight-only quantizers (and the Monarch projection) that checkpoint per linear: a run that dies right after its fifth linear
/// was quantized restores those five on the next attempt, and writes the bytes an uninterrupted run writes.
/// </summary>
public sealed class WeightOnlyResumeTests
{
    private const int DoneBeforeCrash = 5;

    public static TheoryData<string> Methods => ["fp8", "fp4", "fp4-lorc", "ptqtp", "bitstack", "monarch"];

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task ResumedRun_WritesSameModelAsUninterruptedRun_WhenCrashedAfterFifthLinear(string method)
    {
        using var temp = new TempDirectory();
        var sourceDir = temp.File("source");
        TinyLlama.Write(sourceDir);
        var (_, restored, _) = await ResumeRun.CrashThenResumeAsync(temp, sourceDir, method, CrashingProgress.OnReport(DoneBeforeCrash),
            context => RunAsync(method, context));

        Assert.Equal(DoneBeforeCrash, restored);
        Assert.Equal(ResumeRun.ModelSha256(temp, "reference"), ResumeRun.ModelSha256(temp, "second"));
    }

    private static async Task<PipelineResult> RunAsync(string method, PipelineContext context)
    {
        var ct = CancellationToken.None;
        return method switch
        {
            "fp8" => await new Fp8Pipeline().RunAsync(context, new Fp8Options(), ct),
            "fp4" => await new Fp4Pipeline(new FixedDatasetText("")).RunAsync(context, new Fp4Options { GroupSize = 32 }, ct),
            "fp4-lorc" => await new Fp4Pipeline(new FixedDatasetText("")).RunAsync(context, new Fp4Options { GroupSize = 32, LorcRank = 4 }, ct),
            "ptqtp" => await new PtqtpPipeline().RunAsync(context, new PtqtpOptions { GroupSize = 32, MaxIters = 10 }, ct),
            "bitstack" => await new BitStackPipeline().RunAsync(context, new BitStackOptions { Blocks = 3, Rank = 4 }, ct),
            "monarch" => await new MonarchPipeline().RunAsync(context, new MonarchOptions { Nblocks = 4 }, ct),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
        };
    }
}
