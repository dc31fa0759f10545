using System.ComponentModel.DataAnnotations;

namespace Optimizer.Api.Extensions;

/// <summary>The <c>Optimizer</c> configuration section (shared keys, see COMMON conventions).</summary>
public sealed class OptimizerOptions
{
    public const string Section = "Optimizer";

    /// <summary>Bearer secret of the administrator (creates tenants and keys, opens the Hangfire dashboard).</summary>
    public string? AdminKey { get; set; }

    /// <summary>Blob container holding every artifact.</summary>
    [Required]
    public string BlobContainer { get; set; } = "optimizer";

    /// <summary>Largest accepted upload request body in bytes (default 20 GiB); larger requests get 413.</summary>
    [Range(1, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 20L * 1024 * 1024 * 1024;

    /// <summary>How often a live event stream (SSE) polls the job's events (default 500 ms).</summary>
    [Range(50, 60_000)]
    public int EventStreamPollMilliseconds { get; set; } = 500;

    /// <summary>Queued + running + cancelling jobs one tenant may have; another submission gets 429 (default 8).</summary>
    [Range(1, 100_000)]
    public int MaxActiveJobsPerTenant { get; set; } = 8;

    /// <summary>
    /// Memory of one worker in bytes: <c>POST /v1/jobs</c> refuses (422) a job whose estimated peak exceeds it. Default:
    /// this machine's memory (as .NET sees it, container limits included) — set it when workers run elsewhere.
    /// </summary>
    [Range(1, long.MaxValue)]
    public long? WorkerMemoryBytes { get; set; }

    /// <summary><see cref="WorkerMemoryBytes"/>, or this machine's memory when unset.</summary>
    public long EffectiveWorkerMemoryBytes => WorkerMemoryBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>
    /// Routing of methods to queues: a comma list of <c>type/method=queue</c> and <c>type/*=queue</c> (e.g.
    /// <c>finetune/*=gpu</c>); unset, every method stays on its declared queue (<c>cpu</c>). Checked at start-up against
    /// the catalog (<see cref="Domain.Methods.Routing.MethodQueueRoutes"/>).
    /// </summary>
    public string? MethodQueues { get; set; }

    /// <summary>Per-tenant request rate limit on <c>/v1</c> (<c>Optimizer:RateLimit:PermitsPerMinute</c>).</summary>
    public RateLimitOptions RateLimit { get; set; } = new();
}

/// <summary>The <c>Optimizer:RateLimit</c> section.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Requests one tenant may make per minute (fixed window); more get 429 with <c>Retry-After</c> (default 600).</summary>
    [Range(1, int.MaxValue)]
    public int PermitsPerMinute { get; set; } = 600;
}
