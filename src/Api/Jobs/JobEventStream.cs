using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;

namespace Optimizer.Api.Jobs;

/// <summary>
/// <c>GET /v1/jobs/{id}/events</c> with <c>Accept: text/event-stream</c>: Server-Sent Events of the job's log
/// (<c>id: seq</c>, <c>event: level</c>, <c>data: event JSON</c>) and of its progress (<c>event: progress</c>, no id,
/// <c>data: {status, stage, fraction, message}</c>), read by polling the tables. The stream ends after the events
/// of a terminal job have been sent; a client that disconnects ends the loop through <c>RequestAborted</c>.
/// </summary>
public sealed class JobEventStream(string jobId, long afterSeq, TimeSpan pollInterval) : IResult
{
    public const string MediaType = "text/event-stream";
    private const int BatchSize = 500;
    private static readonly TimeSpan s_keepAlive = TimeSpan.FromSeconds(15);

    /// <summary>True when the request asks for SSE rather than a JSON page.</summary>
    public static bool IsRequested(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(MediaType, StringComparison.OrdinalIgnoreCase));

    /// <summary>Where to resume: the <c>Last-Event-ID</c> a reconnecting client sends, else <paramref name="after"/>, else 0.</summary>
    public static long ResumeAfter(HttpRequest request, long? after) =>
        long.TryParse(request.Headers["Last-Event-ID"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            ? last
            : after ?? 0;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = MediaType;
        response.Headers.CacheControl = "no-cache";
        // Tells reverse proxies (nginx) not to hold events back in a buffer.
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var db = httpContext.RequestServices.GetRequiredService<OptimizerDbContext>();
        var aborted = httpContext.RequestAborted;
        try
        {
            await response.StartAsync(aborted);
            await StreamAsync(db, response, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away: nothing to answer, nothing to log.
        }
    }

    private async Task StreamAsync(OptimizerDbContext db, HttpResponse response, CancellationToken aborted)
    {
        var lastSeq = afterSeq;
        ProgressItem? lastProgress = null;
        var lastWrite = DateTimeOffset.UtcNow;
        while (true)
        {
            // Status first, events second: events written before the job became terminal are then all visible.
            var progress = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId)
                .Select(j => new ProgressItem(j.Status, j.ProgressStage, j.ProgressFraction, j.ProgressMessage))
                .FirstOrDefaultAsync(aborted);
            if (progress is null)
            {
                return;
            }
            var events = await db.JobEvents.AsNoTracking().Where(e => e.JobId == jobId && e.Seq > lastSeq)
                .OrderBy(e => e.Seq).Take(BatchSize).ToListAsync(aborted);
            var text = new StringBuilder();
            foreach (var e in events)
            {
                AppendEvent(text, e.Seq.ToString(CultureInfo.InvariantCulture), e.Level,
                    JsonSerializer.Serialize(JobEventResponse.From(e), OptimizerJson.Options));
                lastSeq = e.Seq;
            }
            if (progress != lastProgress)
            {
                AppendEvent(text, null, "progress", JsonSerializer.Serialize(progress.ToWire(), OptimizerJson.Options));
                lastProgress = progress;
            }
            if (text.Length == 0 && DateTimeOffset.UtcNow - lastWrite > s_keepAlive)
            {
                text.Append(": keep-alive\n\n");
            }
            if (text.Length > 0)
            {
                await response.WriteAsync(text.ToString(), aborted);
                await response.Body.FlushAsync(aborted);
                lastWrite = DateTimeOffset.UtcNow;
            }
            if (progress.Status.IsTerminal() && events.Count < BatchSize)
            {
                return;
            }
            if (events.Count < BatchSize)
            {
                await Task.Delay(pollInterval, aborted);
            }
        }
    }

    private static void AppendEvent(StringBuilder text, string? id, string type, string json)
    {
        if (id is not null)
        {
            text.Append("id: ").Append(id).Append('\n');
        }
        // Serialized JSON has no raw newlines, so one data line carries it whole.
        text.Append("event: ").Append(type).Append('\n').Append("data: ").Append(json).Append("\n\n");
    }

    private sealed record ProgressItem(JobStatus Status, string? Stage, double Fraction, string? Message)
    {
        public ProgressEvent ToWire() => new(Status.ToWire(), Stage, Fraction, Message);
    }
}

/// <summary>Data of an SSE <c>progress</c> event: the job's status and its progress fields.</summary>
public sealed record ProgressEvent(string Status, string? Stage, double Fraction, string? Message);
