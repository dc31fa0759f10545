using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Models;
using Optimizer.Domain.Tenancy;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Execution;

public sealed class JobRunnerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_SucceedsAndRegistersOutputModel_WhenRtnJobRunsEndToEnd()
    {
        await using var services = await WorkerServices.StartAsync();
        var (tenantId, sourceId) = await SeedModelAsync(services);
        var jobId = await QueueJobAsync(services, tenantId, sourceId, "quantize", "rtn", """{"bits": 4, "group_size": 32, "symmetric": false}""");

        await RunAsync(services, jobId);

        await using var db = services.NewDb();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId, Ct);
        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Status}: {job.ErrorCode} {job.ErrorMessage}");
        Assert.Equal(1, job.Attempts);
        Assert.Equal(1.0, job.ProgressFraction);
        var output = await db.Models.Include(m => m.Files).SingleAsync(m => m.Id == job.OutputModelId, Ct);
        Assert.Equal(jobId, output.ParentJobId);
        Assert.Equal([sourceId], output.SourceModelIds);
        Assert.Equal(new QuantizationInfo("rtn", 4, 32, "gptq"), output.Quantization);
        Assert.Equal("LlamaForCausalLM", output.Architecture);
        Assert.Contains(output.Files, f => f.Name == "model.safetensors" && f.Sha256.Length == 64);
        Assert.Contains(output.Files, f => f.Name == "config.json");
        var blobs = await services.Store.ListAsync(output.BlobPrefix, CancellationToken.None);
        Assert.Equal(output.Files.Count, blobs.Count);
        Assert.Equal(output.Files.Sum(f => f.SizeBytes), output.SizeBytes);
        var events = await db.JobEvents.Where(e => e.JobId == jobId).OrderBy(e => e.Seq).ToListAsync(Ct);
        Assert.True(events.Count >= 3);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
        Assert.Equal("done", events[^1].Stage);
        Assert.False(Directory.Exists(Path.Combine(services.WorkDir, "jobs", jobId)));
    }

    [Fact]
    public async Task RunAsync_RunsJobOnce_WhenDeliveredTwiceAtOnce()
    {
        await using var services = await WorkerServices.StartAsync();
        var (tenantId, sourceId) = await SeedModelAsync(services);
        var jobId = await QueueJobAsync(services, tenantId, sourceId, "quantize", "rtn", """{"group_size": 32}""");

        await Task.WhenAll(RunAsync(services, jobId), RunAsync(services, jobId));

        await using var db = services.NewDb();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId, Ct);
        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.Equal(1, job.Attempts);
        Assert.Equal(2, await db.Models.CountAsync(Ct));
    }

    [Fact]
    public async Task RunAsync_DoesNothing_WhenJobWasCancelledBeforePickUp()
    {
        await using var services = await WorkerServices.StartAsync();
        var (tenantId, sourceId) = await SeedModelAsync(services);
        var jobId = await QueueJobAsync(services, tenantId, sourceId, "quantize", "rtn", "{}");
        await using (var db = services.NewDb())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId, Ct);
            job.RequestCancel();
            await db.SaveChangesAsync(Ct);
        }

        await RunAsync(services, jobId);

        await using var check = services.NewDb();
        var after = await check.Jobs.SingleAsync(j => j.Id == jobId, Ct);
        Assert.Equal(JobStatus.Cancelled, after.Status);
        Assert.Equal(0, after.Attempts);
        Assert.Equal(1, await check.Models.CountAsync(Ct));
    }

    [Fact]
    public async Task RunAsync_FailsWithInvalidModel_AndLeavesNoBlobs_WhenSourceModelIsMissing()
    {
        await using var services = await WorkerServices.StartAsync();
        var (tenantId, _) = await SeedModelAsync(services);
        var jobId = await QueueJobAsync(services, tenantId, "mdl_missing", "quantize", "rtn", "{}");

        await RunAsync(services, jobId);

        await using var db = services.NewDb();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId, Ct);
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal(JobErrorCodes.InvalidModel, job.ErrorCode);
        var events = await db.JobEvents.Where(e => e.JobId == jobId).OrderBy(e => e.Seq).ToListAsync(Ct);
        Assert.Equal("error", events[^1].Level);
        Assert.Equal(1, await db.Models.CountAsync(Ct));
    }

    [Fact]
    public async Task RunAsync_FailsWithInvalidParams_WhenGroupSizeFitsNoLayer()
    {
        await using var services = await WorkerServices.StartAsync();
        var (tenantId, sourceId) = await SeedModelAsync(services);
        var jobId = await QueueJobAsync(services, tenantId, sourceId, "quantize", "rtn", """{"group_size": 4096}""");

        await RunAsync(services, jobId);

        await using var db = services.NewDb();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId, Ct);
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal(JobErrorCodes.InvalidParams, job.ErrorCode);
        Assert.Null(job.OutputModelId);
    }

    internal static async Task RunAsync(WorkerServices services, string jobId)
    {
        await using var scope = services.Provider.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IJobExecutor>().RunAsync(jobId, CancellationToken.None);
    }

    /// <param name="services">The test services.</param>
    /// <param name="withGpt2Tokenizer">Give the tiny random model the GPT-2 tokenizer files.</param>
    /// <param name="fromDir">Upload this model folder (e.g. the trained fixture) instead of a tiny random model.</param>
    internal static async Task<(string TenantId, string ModelId)> SeedModelAsync(WorkerServices services, bool withGpt2Tokenizer = false,
        string? fromDir = null)
    {
        using var local = new TempDirectory();
        if (fromDir is not null)
        {
            foreach (var file in Directory.GetFiles(fromDir))
            {
                File.Copy(file, Path.Combine(local.Path, Path.GetFileName(file)));
            }
        }
        else if (withGpt2Tokenizer)
        {
            TinyLlama.Write(local.Path, vocab: 50257, gpt2TokenizerDir: TestEnvironment.GptTokenizerDir);
        }
        else
        {
            TinyLlama.Write(local.Path);
        }
        await using var db = services.NewDb();
        var tenant = new Tenant("test");
        db.Tenants.Add(tenant);
        var model = new Model(tenant.Id, "tiny-llama") { Architecture = "LlamaForCausalLM", Dtype = "float16" };
        foreach (var file in Directory.GetFiles(local.Path).Order(StringComparer.Ordinal))
        {
            await using var stream = File.OpenRead(file);
            var stored = await services.Store.UploadAsync(model.BlobPrefix + Path.GetFileName(file), stream, CancellationToken.None);
            model.AddFile(Path.GetFileName(file), stored.SizeBytes, stored.Sha256);
        }
        db.Models.Add(model);
        await db.SaveChangesAsync(Ct);
        return (tenant.Id, model.Id);
    }

    internal static async Task<string> QueueJobAsync(WorkerServices services, string tenantId, string modelId, string type,
        string method, string paramsJson, string? evaluationJson = null)
    {
        await using var db = services.NewDb();
        var job = new Job(tenantId, type, method, paramsJson) { ModelId = modelId, EvaluationJson = evaluationJson };
        db.Jobs.Add(job);
        await db.SaveChangesAsync(Ct);
        return job.Id;
    }
}
