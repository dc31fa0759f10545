using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Optimizer.Api.Tests.Infrastructure;
using Optimizer.Domain.Jobs;

namespace Optimizer.Api.Tests;

public sealed class JobEventStreamTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private sealed record SseMessage(string? Id, string Event, JsonElement Data);

    [Fact]
    public async Task Events_StreamsAppendedEventsInOrderAndEnds_WhenJobFinishes()
    {
        var (tenant, jobId) = await QueuedJobAsync();
        await AppendAsync(jobId, (1, "info", "queued"), (2, "info", "load"));

        using var response = await OpenStreamAsync(tenant, jobId, lastEventId: "1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        // Resumes after Last-Event-ID 1: the backlog is event 2, then the current progress.
        var backlog = await ReadAsync(reader, 2, timeout.Token);
        Assert.Equal(("2", "info", "load"), (backlog[0].Id, backlog[0].Event, backlog[0].Data.GetProperty("stage").GetString()));
        Assert.Equal(("progress", "queued"), (backlog[1].Event, backlog[1].Data.GetProperty("status").GetString()));

        await AppendAsync(jobId, (3, "warning", "quantize"));
        var live = await ReadAsync(reader, 1, timeout.Token);
        Assert.Equal(("3", "warning"), (live[0].Id, live[0].Event));

        await fixture.WithDbAsync(async db =>
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
            job.MarkRunning();
            job.MarkSucceeded(null, null);
            db.JobEvents.Add(new JobEvent(jobId, 4, "info", "done", "finished"));
            return await db.SaveChangesAsync();
        });
        var rest = await ReadToEndAsync(reader, timeout.Token);

        Assert.Equal("4", rest[0].Id);
        Assert.Equal(4, rest[0].Data.GetProperty("seq").GetInt64());
        Assert.Equal(("progress", "succeeded"), (rest[^1].Event, rest[^1].Data.GetProperty("status").GetString()));
        Assert.Equal(1.0, rest[^1].Data.GetProperty("fraction").GetDouble());
    }

    [Fact]
    public async Task Events_SendsBacklogAndEndsAtOnce_WhenJobAlreadyTerminal()
    {
        var (tenant, jobId) = await QueuedJobAsync();
        await AppendAsync(jobId, (1, "info", "a"), (2, "error", "b"));
        await tenant.Http.PostAsync($"/v1/jobs/{jobId}/cancel", null);

        using var response = await OpenStreamAsync(tenant, jobId, lastEventId: null);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var all = await ReadToEndAsync(reader, timeout.Token);

        // The cancel of a queued job adds its terminal event (seq 3) before the final progress message.
        Assert.Equal(["1", "2", "3", null], all.Select(m => m.Id));
        Assert.Equal(["info", "error", "warning", "progress"], all.Select(m => m.Event));
        Assert.Equal("cancelled", all[2].Data.GetProperty("stage").GetString());
        Assert.Equal("cancelled", all[3].Data.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Events_StopsQuietly_WhenClientDisconnects()
    {
        var (tenant, jobId) = await QueuedJobAsync();
        var response = await OpenStreamAsync(tenant, jobId, lastEventId: null);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal("progress", (await ReadAsync(reader, 1, timeout.Token))[0].Event);

        // Start-up logs an error while EF creates the fresh database, so only new entries count.
        var errorsBefore = fixture.Errors.Entries.Count;
        reader.Dispose();
        response.Dispose();
        await Task.Delay(1500);

        Assert.True(errorsBefore == fixture.Errors.Entries.Count, string.Join("\n", fixture.Errors.Entries.Skip(errorsBefore)));
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetAsync($"/v1/jobs/{jobId}")).StatusCode);
    }

    [Fact]
    public async Task Events_Returns404_WhenStreamingAnotherTenantsJob()
    {
        var (_, jobId) = await QueuedJobAsync();
        var other = await fixture.CreateTenantAsync();
        using var response = await OpenStreamAsync(other, jobId, lastEventId: null);
        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    private static Task<HttpResponseMessage> OpenStreamAsync(TenantClient tenant, string jobId, string? lastEventId)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{jobId}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        return tenant.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>Reads exactly <paramref name="count"/> messages (fails if the stream ends first).</summary>
    private static async Task<List<SseMessage>> ReadAsync(StreamReader reader, int count, CancellationToken cancellationToken)
    {
        var messages = new List<SseMessage>();
        while (messages.Count < count)
        {
            var message = await ReadMessageAsync(reader, cancellationToken);
            Assert.True(message is not null, $"The stream ended after {messages.Count} of {count} messages.");
            messages.Add(message);
        }
        return messages;
    }

    private static async Task<List<SseMessage>> ReadToEndAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        var messages = new List<SseMessage>();
        while (await ReadMessageAsync(reader, cancellationToken) is { } message)
        {
            messages.Add(message);
        }
        return messages;
    }

    /// <summary>One SSE message (comments skipped), or null at the end of the stream.</summary>
    private static async Task<SseMessage?> ReadMessageAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        string? id = null, type = null, data = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    return new SseMessage(id, type ?? "message", JsonSerializer.Deserialize<JsonElement>(data));
                }
                continue;
            }
            var colon = line.IndexOf(':');
            var (field, value) = colon < 0 ? (line, "") : (line[..colon], line[(colon + 1)..].TrimStart(' '));
            switch (field)
            {
                case "id": id = value; break;
                case "event": type = value; break;
                case "data": data = data is null ? value : data + "\n" + value; break;
            }
        }
        return null;
    }

    private async Task AppendAsync(string jobId, params (long Seq, string Level, string Stage)[] events)
    {
        await fixture.WithDbAsync(db =>
        {
            foreach (var (seq, level, stage) in events)
            {
                db.JobEvents.Add(new JobEvent(jobId, seq, level, stage, $"event {seq}"));
            }
            return db.SaveChangesAsync();
        });
    }

    private async Task<(TenantClient Tenant, string JobId)> QueuedJobAsync()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        var job = await (await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = model.Id })).ReadAsAsync<IdOnly>();
        return (tenant, job.Id);
    }
}
