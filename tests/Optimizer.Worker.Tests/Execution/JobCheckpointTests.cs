using Optimizer.Domain.Jobs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

public sealed class JobCheckpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TryRestoreAsync_ReturnsSavedFiles_InTheNextAttempt()
    {
        await using var services = await WorkerServices.StartAsync();
        using var scratch = new TempDirectory();
        var job = new Job("ten_x", "quantize", "rtn", "{}");
        var first = new JobCheckpoint(services.Store, job, Path.Combine(scratch.Path, "a"));
        var file = Path.Combine(first.ScratchFor("model.layers.0.q_proj"), "part.bin");
        await File.WriteAllBytesAsync(file, [1, 2, 3], Ct);

        await first.SaveAsync("model.layers.0.q_proj", [file], Ct);
        var second = new JobCheckpoint(services.Store, job, Path.Combine(scratch.Path, "b"));
        var restored = await second.TryRestoreAsync("model.layers.0.q_proj", Ct);

        Assert.NotNull(restored);
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(restored, "part.bin"), Ct));
        Assert.Null(await second.TryRestoreAsync("model.layers.1.q_proj", Ct));
        Assert.Equal(1, second.Restored);
    }

    [Fact]
    public async Task TryRestoreAsync_IgnoresKey_WhenItsSaveNeverCompleted()
    {
        await using var services = await WorkerServices.StartAsync();
        using var scratch = new TempDirectory();
        var job = new Job("ten_x", "prune", "magnitude", "{}");
        // What a worker killed halfway through SaveAsync leaves: a file, no completion marker.
        await services.Store.UploadAsync(JobArtifacts.CheckpointPrefix(job.TenantId, job.Id) + "layer/part.bin", new MemoryStream([9]), Ct);

        var restored = await new JobCheckpoint(services.Store, job, scratch.Path).TryRestoreAsync("layer", Ct);

        Assert.Null(restored);
    }

    [Fact]
    public async Task TryRestoreAsync_ReadsBackKeySavedByThisAttempt_WithoutCountingItAsRestored()
    {
        await using var services = await WorkerServices.StartAsync();
        using var scratch = new TempDirectory();
        var job = new Job("ten_x", "quantize", "bitstack", "{}");
        var earlier = new JobCheckpoint(services.Store, job, Path.Combine(scratch.Path, "a"));
        await SaveAsync(earlier, "model.layers.0.q_proj", 1);
        var attempt = new JobCheckpoint(services.Store, job, Path.Combine(scratch.Path, "b"));
        Assert.NotNull(await attempt.TryRestoreAsync("model.layers.0.q_proj", Ct));

        // Saved after the attempt listed the completed keys (BitStack's first pass), read back by its second pass.
        await SaveAsync(attempt, "model.layers.0.k_proj", 2);
        var own = await attempt.TryRestoreAsync("model.layers.0.k_proj", Ct);
        await attempt.TryRestoreAsync("model.layers.0.q_proj", Ct);

        Assert.NotNull(own);
        Assert.Equal([2], await File.ReadAllBytesAsync(Path.Combine(own, "part.bin"), Ct));
        Assert.Equal(1, attempt.Restored);
    }

    private static async Task SaveAsync(JobCheckpoint checkpoint, string key, byte value)
    {
        var file = Path.Combine(checkpoint.ScratchFor(key), "part.bin");
        await File.WriteAllBytesAsync(file, [value], Ct);
        await checkpoint.SaveAsync(key, [file], Ct);
    }
}
