using System.Collections.Concurrent;
using System.Diagnostics;

namespace Optimizer.Tests.Shared;

/// <summary>
/// Records, while it lives, every span of one <see cref="ActivitySource"/> that stops — sampled and recorded, as an OTLP
/// exporter would have them. The listener sees every test's spans in the process: filter by trace or tag.
/// Linked into the test projects that check traces.
/// </summary>
public sealed class SpanRecorder : IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public SpanRecorder(string sourceName)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == sourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The spans stopped so far.</summary>
    public IReadOnlyCollection<Activity> Stopped => _stopped;

    /// <summary>The stopped spans tagged with this job (<c>optimizer.job.id</c>).</summary>
    public List<Activity> OfJob(string jobId) => [.. _stopped.Where(a => (string?)a.GetTagItem("optimizer.job.id") == jobId)];

    public void Dispose() => _listener.Dispose();
}
