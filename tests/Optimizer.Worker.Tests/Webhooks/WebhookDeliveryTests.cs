using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Optimizer.Domain.Webhooks;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Webhooks;

public sealed class WebhookDeliveryTests
{
    [Fact]
    public async Task Send_SignsPerStandardWebhooks_AndTamperedBodyFailsVerification()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        var subscription = await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "signed");
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId);

        await WebhookFlow.PublishAsync(harness.Services, job.Id);

        var request = (await harness.Receiver.WaitForAsync("/signed", 1))[0];
        var (id, timestamp, signature) = (request.Headers["webhook-id"], request.Headers["webhook-timestamp"], request.Headers["webhook-signature"]);
        Assert.Equal(WebhookIds.Message(job.Id, WebhookEventTypes.JobFailed), id);
        Assert.True(Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(timestamp, CultureInfo.InvariantCulture)) < 60);
        // Independent check, straight from the specification.
        var key = Convert.FromBase64String(subscription.Secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{request.Body}")));
        Assert.Equal(expected, signature);
        Assert.True(WebhookVerifier.Verify(subscription.Secret, id, timestamp, signature, request.Body));
        Assert.False(WebhookVerifier.Verify(subscription.Secret, id, timestamp, signature, request.Body.Replace("failed", "succeeded")));
        Assert.False(WebhookVerifier.Verify(WebhookSecret.New(), id, timestamp, signature, request.Body));
        Assert.False(WebhookVerifier.Verify(subscription.Secret, id, "1000", signature, request.Body));
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("job.failed", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(job.Id, body.RootElement.GetProperty("data").GetProperty("id").GetString());
        Assert.Equal("invalid_model", body.RootElement.GetProperty("data").GetProperty("error").GetProperty("code").GetString());
        Assert.StartsWith("application/json", request.Headers["content-type"]);
    }

    [Fact]
    public async Task Send_RecordsThreeAttemptsAndSucceeds_WhenReceiverAnswers500Twice()
    {
        await using var harness = await WebhookHarness.StartAsync();
        harness.Receiver.Answer(500, 500);
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "flaky", WebhookEventTypes.JobFailed);
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId);

        await WebhookFlow.PublishAsync(harness.Services, job.Id);

        var delivery = (await WebhookFlow.DeliveriesAsync(harness.Services, job.Id)).Single();
        var done = await harness.WaitForDeliveryAsync(delivery.Id, d => d.Status != WebhookDeliveryStatus.Pending);
        Assert.Equal((WebhookDeliveryStatus.Succeeded, 3, 200), (done.Status, done.Attempts, done.LastStatusCode));
        Assert.NotNull(done.DeliveredAt);
        Assert.Null(done.NextRetryAt);
        var attempts = await WebhookFlow.AttemptsAsync(harness.Services, delivery.Id);
        Assert.Equal([500, 500, 200], attempts.Select(a => a.StatusCode ?? 0));
        Assert.All(attempts, a => Assert.False(a.Manual));
        var requests = harness.Receiver.To("/flaky");
        Assert.Equal(3, requests.Count);
        Assert.Single(requests.Select(r => r.Headers["webhook-id"]).Distinct());
        Assert.Single(requests.Select(r => r.Body).Distinct());
        // The configured 300 ms waits separate the attempts.
        Assert.True(requests.Last().At - requests.First().At >= TimeSpan.FromMilliseconds(500), $"{requests.First().At:O} {requests.Last().At:O}");
    }

    [Fact]
    public async Task Send_FailsAfterTheSchedule_WhenReceiverAlwaysFails()
    {
        await using var harness = await WebhookHarness.StartAsync(new Dictionary<string, string?> { ["RetryDelays"] = "200ms,200ms" });
        harness.Receiver.Answer(503, 503, 503, 503, 503);
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "down", WebhookEventTypes.JobFailed);
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId);

        await WebhookFlow.PublishAsync(harness.Services, job.Id);

        var delivery = (await WebhookFlow.DeliveriesAsync(harness.Services, job.Id)).Single();
        var done = await harness.WaitForDeliveryAsync(delivery.Id, d => d.Status != WebhookDeliveryStatus.Pending);
        Assert.Equal((WebhookDeliveryStatus.Failed, 3, 503), (done.Status, done.Attempts, done.LastStatusCode));
        Assert.Null(done.NextRetryAt);
        Assert.Equal("HTTP 503.", done.LastError);
        await Task.Delay(1000);
        Assert.Equal(3, harness.Receiver.To("/down").Count);
    }

    [Fact]
    public async Task Redeliver_AddsManualAttemptWithSameWebhookId_WhenAlreadyDelivered()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "again", WebhookEventTypes.JobFailed);
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId);
        await WebhookFlow.PublishAsync(harness.Services, job.Id);
        var delivery = (await WebhookFlow.DeliveriesAsync(harness.Services, job.Id)).Single();
        await harness.WaitForDeliveryAsync(delivery.Id, d => d.Status == WebhookDeliveryStatus.Succeeded);

        harness.Get<IWebhookQueue>().Enqueue(delivery.Id, autoAttempt: 0);

        var done = await harness.WaitForDeliveryAsync(delivery.Id, d => d.Attempts == 2);
        Assert.Equal(WebhookDeliveryStatus.Succeeded, done.Status);
        var attempts = await WebhookFlow.AttemptsAsync(harness.Services, delivery.Id);
        Assert.Equal([false, true], attempts.Select(a => a.Manual));
        var requests = await harness.Receiver.WaitForAsync("/again", 2);
        Assert.Equal([delivery.MessageId, delivery.MessageId], requests.Select(r => r.Headers["webhook-id"]));
    }

    [Fact]
    public async Task Send_DoesNotFollowRedirect_AndRetries()
    {
        await using var harness = await WebhookHarness.StartAsync();
        harness.Receiver.Answer(302);
        harness.Receiver.RedirectTo = harness.Receiver.BaseUrl + "elsewhere";
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "moved", WebhookEventTypes.JobFailed);
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId);

        await WebhookFlow.PublishAsync(harness.Services, job.Id);

        var delivery = (await WebhookFlow.DeliveriesAsync(harness.Services, job.Id)).Single();
        await harness.WaitForDeliveryAsync(delivery.Id, d => d.Status == WebhookDeliveryStatus.Succeeded);
        var attempts = await WebhookFlow.AttemptsAsync(harness.Services, delivery.Id);
        Assert.Equal([302, 200], attempts.Select(a => a.StatusCode ?? 0));
        Assert.Contains("not followed", attempts[0].Error);
        Assert.Empty(harness.Receiver.To("/elsewhere"));
    }

    [Fact]
    public async Task Send_RefusesLoopbackAtConnect_WhenPrivateNetworksNotAllowed()
    {
        await using var harness = await WebhookHarness.StartAsync(new Dictionary<string, string?>
        {
            ["AllowPrivateNetworks"] = "false",
            ["RetryDelays"] = "",
        });
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        // "localhost" is a name: the refusal comes from the resolved address at connect time, not from the URL's text.
        var url = harness.Receiver.BaseUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal) + "internal";
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, url, WebhookEventTypes.JobFailed);
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId);

        await WebhookFlow.PublishAsync(harness.Services, job.Id);

        var delivery = (await WebhookFlow.DeliveriesAsync(harness.Services, job.Id)).Single();
        var done = await harness.WaitForDeliveryAsync(delivery.Id, d => d.Status != WebhookDeliveryStatus.Pending);
        Assert.Equal((WebhookDeliveryStatus.Failed, 1, (int?)null), (done.Status, done.Attempts, done.LastStatusCode));
        Assert.StartsWith("Refused", done.LastError);
        Assert.Empty(harness.Receiver.Requests);
    }

    [Fact]
    public async Task Send_RecordsTimeout_WhenReceiverAnswersTooLate()
    {
        await using var harness = await WebhookHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Timeout"] = "00:00:00.500",
            ["RetryDelays"] = "",
        });
        harness.Receiver.Delay = TimeSpan.FromSeconds(3);
        var tenantId = await WebhookFlow.TenantAsync(harness.Services);
        await WebhookFlow.SubscribeAsync(harness.Services, tenantId, harness.Receiver.BaseUrl + "slow", WebhookEventTypes.JobFailed);
        var job = await WebhookFlow.FailedJobAsync(harness.Services, tenantId);

        await WebhookFlow.PublishAsync(harness.Services, job.Id);

        var delivery = (await WebhookFlow.DeliveriesAsync(harness.Services, job.Id)).Single();
        var done = await harness.WaitForDeliveryAsync(delivery.Id, d => d.Status != WebhookDeliveryStatus.Pending);
        Assert.Equal(WebhookDeliveryStatus.Failed, done.Status);
        var attempt = (await WebhookFlow.AttemptsAsync(harness.Services, delivery.Id)).Single();
        Assert.Null(attempt.StatusCode);
        Assert.Contains("No answer within 0.5 s", attempt.Error);
        Assert.InRange(attempt.DurationMs, 450, 2900);
    }
}
