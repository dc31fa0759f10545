using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Optimizer.Api.Tests.Infrastructure;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Api.Tests;

public sealed class WebhookTests(WebhooksFixture fixture) : IClassFixture<WebhooksFixture>
{
    private sealed record WebhookDto(string Id, string Url, List<string> Events, string? Description, bool Enabled, string? Secret);

    private sealed record AttemptDto(DateTimeOffset At, int? StatusCode, string? Error, long DurationMs, bool Manual);

    private sealed record DeliveryDto(string Id, string WebhookId, string Event, string JobId, string Status, int? StatusCode, int Attempt,
        DateTimeOffset? NextRetryAt, DateTimeOffset? DeliveredAt, string? Error, List<AttemptDto> Attempts);

    [Fact]
    public async Task Create_Returns201WithSecretShownOnce_ThenGetListAndDeleteWork()
    {
        var tenant = await fixture.CreateTenantAsync();

        var response = await tenant.Http.PostAsJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook", description = "ci" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadAsAsync<WebhookDto>();
        Assert.StartsWith("whk_", created.Id);
        Assert.Equal($"/v1/webhooks/{created.Id}", response.Headers.Location?.ToString());
        Assert.Equal(WebhookEventTypes.All, created.Events);
        Assert.StartsWith("whsec_", created.Secret);
        Assert.Equal(32, Convert.FromBase64String(created.Secret!["whsec_".Length..]).Length);
        var fetched = await tenant.Http.GetAsAsync<JsonElement>($"/v1/webhooks/{created.Id}");
        Assert.False(fetched.TryGetProperty("secret", out _));
        Assert.Equal("ci", fetched.GetProperty("description").GetString());
        Assert.Equal([created.Id], (await tenant.Http.GetAsAsync<PageOf<WebhookDto>>("/v1/webhooks")).Data.Select(w => w.Id));

        var other = await fixture.CreateTenantAsync();
        await (await other.Http.GetAsync($"/v1/webhooks/{created.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Http.DeleteAsync($"/v1/webhooks/{created.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty((await other.Http.GetAsAsync<PageOf<WebhookDto>>("/v1/webhooks")).Data);

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Http.DeleteAsync($"/v1/webhooks/{created.Id}")).StatusCode);
        await (await tenant.Http.GetAsync($"/v1/webhooks/{created.Id}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task CancelQueuedJob_RecordsJobCancelledDeliveryListedWithItsJobAsPayload()
    {
        var tenant = await fixture.CreateTenantAsync();
        var hook = await (await tenant.Http.PostAsJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook", events = new[] { "job.cancelled" } }))
            .ReadAsAsync<WebhookDto>();
        var job = await QueueJobAsync(tenant);
        var hangfireBefore = await fixture.HangfireJobCountAsync();

        Assert.Equal(HttpStatusCode.Accepted, (await tenant.Http.PostAsync($"/v1/jobs/{job}/cancel", null)).StatusCode);

        var page = await tenant.Http.GetAsAsync<PageOf<DeliveryDto>>($"/v1/webhooks/{hook.Id}/deliveries");
        var delivery = Assert.Single(page.Data);
        Assert.Equal(("job.cancelled", job, "pending", 0), (delivery.Event, delivery.JobId, delivery.Status, delivery.Attempt));
        Assert.Equal(WebhookIds.Message(job, "job.cancelled"), delivery.WebhookId);
        Assert.StartsWith("dlv_", delivery.Id);
        Assert.NotNull(delivery.NextRetryAt);
        Assert.Empty(delivery.Attempts);
        // One Hangfire job on the webhooks queue for the delivery.
        Assert.Equal(hangfireBefore + 1, await fixture.HangfireJobCountAsync());
        Assert.Equal(1, await HangfireJobsOnQueueAsync(IWebhookQueue.QueueName, delivery.Id));
        // The payload's data is the job exactly as GET /v1/jobs/{id} shows it.
        var stored = await fixture.WithDbAsync(db => db.WebhookDeliveries.SingleAsync(d => d.Id == delivery.Id));
        using var payload = JsonDocument.Parse(stored.Payload);
        Assert.Equal("job.cancelled", payload.RootElement.GetProperty("type").GetString());
        var fromApi = await tenant.Http.GetAsAsync<JsonElement>($"/v1/jobs/{job}");
        Assert.Equal(fromApi.GetRawText(), payload.RootElement.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task Deliveries_ListAttemptsAndRedeliverQueuesOneMore_WhenDeliveryHasAttempts()
    {
        var tenant = await fixture.CreateTenantAsync();
        var hook = await (await tenant.Http.PostAsJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook" })).ReadAsAsync<WebhookDto>();
        var job = await QueueJobAsync(tenant);
        await tenant.Http.PostAsync($"/v1/jobs/{job}/cancel", null);
        var id = (await tenant.Http.GetAsAsync<PageOf<DeliveryDto>>($"/v1/webhooks/{hook.Id}/deliveries")).Data.Single().Id;
        await fixture.WithDbAsync(async db =>
        {
            var delivery = await db.WebhookDeliveries.SingleAsync(d => d.Id == id);
            var attempt = new WebhookAttempt(id, DateTimeOffset.UtcNow, 500, "HTTP 500.", 12, manual: false);
            db.WebhookAttempts.Add(attempt);
            delivery.Record(attempt, DateTimeOffset.UtcNow.AddMinutes(5));
            return await db.SaveChangesAsync();
        });

        var listed = (await tenant.Http.GetAsAsync<PageOf<DeliveryDto>>($"/v1/webhooks/{hook.Id}/deliveries")).Data.Single();
        Assert.Equal((1, 500, "HTTP 500.", "pending"), (listed.Attempt, listed.StatusCode, listed.Error, listed.Status));
        var attempt = Assert.Single(listed.Attempts);
        Assert.Equal((500, 12L, false), (attempt.StatusCode ?? 0, attempt.DurationMs, attempt.Manual));

        var redeliver = await tenant.Http.PostAsync($"/v1/webhooks/{hook.Id}/deliveries/{id}/redeliver", null);

        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        Assert.Equal(id, (await redeliver.ReadAsAsync<DeliveryDto>()).Id);
        Assert.Equal(2, await HangfireJobsOnQueueAsync(IWebhookQueue.QueueName, id));
        var other = await fixture.CreateTenantAsync();
        await (await other.Http.PostAsync($"/v1/webhooks/{hook.Id}/deliveries/{id}/redeliver", null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await other.Http.GetAsync($"/v1/webhooks/{hook.Id}/deliveries")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task CreateJob_ReturnsNotifySecretOnlyOnCreate_WhenNotifyGiven()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();

        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = model.Id, notify = new[] { "http://127.0.0.1:9/ci" } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = await response.ReadAsAsync<JsonElement>();
        Assert.StartsWith("whsec_", created.GetProperty("notify_secret").GetString());
        var fetched = await tenant.Http.GetAsAsync<JsonElement>($"/v1/jobs/{created.GetProperty("id").GetString()}");
        Assert.False(fetched.TryGetProperty("notify_secret", out _));
        var plain = await (await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = model.Id })).ReadAsAsync<JsonElement>();
        Assert.False(plain.TryGetProperty("notify_secret", out _));
    }

    [Fact]
    public async Task JobDeliveries_ListOnlyTheNotifyUrlDeliveries_WhenAQueuedJobWithNotifyIsCancelled()
    {
        var tenant = await fixture.CreateTenantAsync();
        var hook = await (await tenant.Http.PostAsJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook" })).ReadAsAsync<WebhookDto>();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        var job = (await (await tenant.Http.PostAsJsonAsync("/v1/jobs", new
        {
            type = "quantize", method = "rtn", model_id = model.Id, notify = new[] { "http://127.0.0.1:9/ci", "http://127.0.0.1:9/cd" },
        })).ReadAsAsync<IdOnly>()).Id;

        Assert.Equal(HttpStatusCode.Accepted, (await tenant.Http.PostAsync($"/v1/jobs/{job}/cancel", null)).StatusCode);

        var page = await tenant.Http.GetAsAsync<PageOf<DeliveryDto>>($"/v1/jobs/{job}/deliveries");
        Assert.Equal(2, page.Data.Count);
        Assert.All(page.Data, d => Assert.Equal(("job.cancelled", job, "pending", WebhookIds.Message(job, "job.cancelled")),
            (d.Event, d.JobId, d.Status, d.WebhookId)));
        var subscription = Assert.Single((await tenant.Http.GetAsAsync<PageOf<DeliveryDto>>($"/v1/webhooks/{hook.Id}/deliveries")).Data);
        Assert.DoesNotContain(subscription.Id, page.Data.Select(d => d.Id));
        var first = await tenant.Http.GetAsAsync<PageOf<DeliveryDto>>($"/v1/jobs/{job}/deliveries?limit=1");
        Assert.Equal(page.Data[0].Id, Assert.Single(first.Data).Id);
        var other = await fixture.CreateTenantAsync();
        await (await other.Http.GetAsync($"/v1/jobs/{job}/deliveries")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    private static async Task<string> QueueJobAsync(TenantClient tenant)
    {
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        var response = await tenant.Http.PostAsJsonAsync("/v1/jobs", new { type = "quantize", method = "rtn", model_id = model.Id });
        return (await response.ReadAsAsync<IdOnly>()).Id;
    }

    /// <summary>Hangfire jobs on <paramref name="queue"/> whose arguments name <paramref name="deliveryId"/>.</summary>
    private async Task<long> HangfireJobsOnQueueAsync(string queue, string deliveryId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM hangfire.jobqueue q JOIN hangfire.job j ON j.id = q.jobid WHERE q.queue = @queue AND j.arguments::text LIKE @id", connection);
        command.Parameters.AddWithValue("queue", queue);
        command.Parameters.AddWithValue("id", $"%{deliveryId}%");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
