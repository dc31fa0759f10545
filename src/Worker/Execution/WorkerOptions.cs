namespace Optimizer.Worker.Execution;

/// <summary>Worker settings (section <c>Worker</c>).</summary>
public sealed class WorkerOptions
{
    /// <summary>Comma-separated Hangfire queues this worker serves.</summary>
    public string Queues { get; set; } = "cpu";
    /// <summary>Jobs run in parallel by this process (1: a job uses every core).</summary>
    public int Count { get; set; } = 1;
    /// <summary>Local scratch; each job uses <c>jobs/{jobId}/</c> below it.</summary>
    public string WorkDir { get; set; } = Path.Combine(Path.GetTempPath(), "optimizer-worker");
    /// <summary>npm <c>node_modules</c> folder holding the corpora (built-in datasets).</summary>
    public string? CorpusDir { get; set; }
    /// <summary>How often a running job's row is polled for a cancel request.</summary>
    public TimeSpan CancelPollInterval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>Blob container (from <c>Optimizer:BlobContainer</c>).</summary>
    public string BlobContainer { get; set; } = "optimizer";

    public string[] QueueList => [.. Queues.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(q => q.ToLowerInvariant())];
}
