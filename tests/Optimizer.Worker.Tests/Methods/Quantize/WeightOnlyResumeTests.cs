using System.Security.Cryptography;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Quantize.BitStack;
using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Domain.Methods.Quantize.Fp8;
using Optimizer.Domain.Methods.Quantize.Ptqtp;
using Optimizer.Domain.Storage;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.BitStack;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Methods.Quantize.Fp8;
using Optimizer.Worker.Methods.Quantize.Ptqtp;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Methods.Quantize;

/// <summary>
/// Crash → resume for the weight-only quantizers that checkpoint per linear: a run that dies right after its fifth linear
/// was quantized restores those five on the next attempt, and writes the bytes an uninterrupted run writes.
/// </summary>
public sealed class WeightOnlyResumeTests
{
    private const int DoneBeforeCrash = 5;

    public static TheoryData<string> Methods => ["fp8", "fp4", "fp4-lorc", "ptqtp", "bitstack"];

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task ResumedRun_WritesSameModelAsUninterruptedRun_WhenCrashedAfterFifthLinear(string method)
    {
        using var temp = new TempDirectory();
        var sourceDir = temp.File("source");
        TinyLlama.Write(sourceDir);
        var job = new Job("t_test", "quantize", method, "{}");
        var store = TestEnvironment.NewBlobStore();

        await Assert.ThrowsAsync<IOException>(() => RunAsync(method, sourceDir, temp.File("first"), job, store,
            CrashingProgress.OnReport(DoneBeforeCrash)));
        var restored = await RunAsync(method, sourceDir, temp.File("second"), job, store, new RecordingProgress());
        await RunAsync(method, sourceDir, temp.File("reference"), new Job("t_test", "quantize", method, "{}"), TestEnvironment.NewBlobStore(),
            new RecordingProgress());

        Assert.Equal(DoneBeforeCrash, restored);
        Assert.Equal(Sha256(temp.File("reference/out/model.safetensors")), Sha256(temp.File("second/out/model.safetensors")));
    }

    private static async Task<int> RunAsync(string method, string sourceDir, string work, Job job, IArtifactStore store, IProgressReporter progress)
    {
        var checkpoint = new JobCheckpoint(store, job, Path.Combine(work, "checkpoint"));
        var context = PipelineRun.Context(job, work, sourceDir, Path.Combine(work, "out"), progress, checkpoint);
        var ct = CancellationToken.None;
        _ = method switch
        {
            "fp8" => await new Fp8Pipeline().RunAsync(context, new Fp8Options(), ct),
            "fp4" => await new Fp4Pipeline().RunAsync(context, new Fp4Options { GroupSize = 32 }, ct),
            "fp4-lorc" => await new Fp4Pipeline().RunAsync(context, new Fp4Options { GroupSize = 32, LorcRank = 4 }, ct),
            "ptqtp" => await new PtqtpPipeline().RunAsync(context, new PtqtpOptions { GroupSize = 32, MaxIters = 10 }, ct),
            "bitstack" => await new BitStackPipeline().RunAsync(context, new BitStackOptions { Blocks = 3, Rank = 4 }, ct),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
        };
        return checkpoint.Restored;
    }

    private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
