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
    /// <summary>
    /// How often a running job's lease (<c>heartbeat_at</c>) is renewed; the same round-trip reads the status, so this is
    /// also how soon a cancel request is noticed (<see cref="JobWatch"/>).
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>A running job whose heartbeat is older than this has lost its worker (crash, kill -9, partition).</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>How often every worker looks for jobs whose worker was lost.</summary>
    public TimeSpan RecoverySweepInterval { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>Attempts (claims) after which a job whose worker is lost again ends <c>failed</c> with <c>worker_lost</c>.</summary>
    public int MaxAttempts { get; set; } = 3;
    /// <summary>
    /// Fault injection for the crash-recovery tests: a pause after each saved checkpoint, so a test can kill the worker
    /// between layers. Honoured only when the host environment is <c>Testing</c> (see <c>WorkerHostingExtensions</c>).
    /// </summary>
    public TimeSpan TestCheckpointDelay { get; set; } = TimeSpan.Zero;
    /// <summary>
    /// Port of this process's Prometheus endpoint (<c>/metrics</c>); 0 (the default) serves none. May equal
    /// <see cref="HealthPort"/>: one port then serves the probes and the scrape (<see cref="Hosting.WorkerEndpoints"/>).
    /// </summary>
    public int MetricsPort { get; set; }
    /// <summary>
    /// Host name the metrics endpoint binds to: <c>localhost</c> by default, <c>*</c> for every interface (containers);
    /// ignored when the metrics port is the health port (then every interface, as the probes).
    /// </summary>
    public string MetricsHost { get; set; } = "localhost";
    /// <summary>
    /// Port of the <c>/healthz</c> and <c>/readyz</c> probes (<see cref="Hosting.WorkerEndpoints"/>, all interfaces); unset: no
    /// listener. The container images set 8081.
    /// </summary>
    public int? HealthPort { get; set; }
    /// <summary>Blob container (from <c>Optimizer:BlobContainer</c>).</summary>
    public string BlobContainer { get; set; } = "optimizer";

    public string[] QueueList => [.. Queues.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(q => q.ToLowerInvariant())];
}
