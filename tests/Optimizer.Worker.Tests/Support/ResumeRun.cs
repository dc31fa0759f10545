using System.Security.Cryptography;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Storage;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Tests.Support;

/// <summary>
/// Crash → resume, as a killed worker and the next attempt see it: one job's pipeline runs until <c>crash</c> kills it, runs
/// again on the same job's checkpoints, and a reference job runs uninterrupted on fresh storage. Each run works in its own
/// folder under the temp directory (<c>first</c>, <c>second</c>, <c>reference</c>; output in <c>out/</c>).
/// </summary>
public static class ResumeRun
{
    public static async Task<(TResult Resumed, int Restored, TResult Reference)> CrashThenResumeAsync<TResult>(TempDirectory temp,
        string sourceDir, string method, CrashingProgress crash, Func<PipelineContext, Task<TResult>> run)
    {
        var job = new Job("t_test", "quantize", method, "{}");
        var store = TestEnvironment.NewBlobStore();
        await Assert.ThrowsAsync<IOException>(() => RunAsync(temp.File("first"), job, store, crash));
        var second = new JobCheckpoint(store, job, Path.Combine(temp.File("second"), "checkpoint"));
        var resumed = await run(PipelineRun.Context(job, temp.File("second"), sourceDir, temp.File("second/out"), new RecordingProgress(), second));
        var reference = await RunAsync(temp.File("reference"), new Job("t_test", "quantize", method, "{}"), TestEnvironment.NewBlobStore(),
            new RecordingProgress());
        return (resumed, second.Restored, reference);

        Task<TResult> RunAsync(string work, Job runJob, IArtifactStore runStore, IProgressReporter progress) =>
            run(PipelineRun.Context(runJob, work, sourceDir, Path.Combine(work, "out"), progress,
                new JobCheckpoint(runStore, runJob, Path.Combine(work, "checkpoint"))));
    }

    /// <summary>The SHA-256 of a run's <c>out/model.safetensors</c>.</summary>
    public static string ModelSha256(TempDirectory temp, string run) =>
        Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(temp.File($"{run}/out/model.safetensors"))));
}
