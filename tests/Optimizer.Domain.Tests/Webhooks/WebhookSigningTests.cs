using System.Net;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Domain.Tests.Webhooks;

public sealed class WebhookSigningTests
{
    // The test vector published with the Standard Webhooks specification (and Svix's libraries).
    private const string VectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string VectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long VectorTimestamp = 1614265330;
    private const string VectorBody = """{"test": 2432232314}""";
    private const string VectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    private static readonly DateTimeOffset s_vectorTime = DateTimeOffset.FromUnixTimeSeconds(VectorTimestamp);

    [Fact]
    public void Sign_MatchesTheSpecificationVector_WhenGivenItsInputs()
    {
        Assert.Equal(VectorSignature, WebhookSignature.Sign(VectorSecret, VectorId, VectorTimestamp, VectorBody));
    }

    [Fact]
    public void Verify_AcceptsVectorAmongSeveralSignatures_AndRejectsAnyChange()
    {
        var ts = VectorTimestamp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(WebhookVerifier.Verify(VectorSecret, VectorId, ts, VectorSignature, VectorBody, s_vectorTime));
        Assert.True(WebhookVerifier.Verify(VectorSecret, VectorId, ts, "v1,AAAA " + VectorSignature, VectorBody, s_vectorTime));
        Assert.False(WebhookVerifier.Verify(VectorSecret, VectorId, ts, VectorSignature, VectorBody.Replace('2', '3'), s_vectorTime));
        Assert.False(WebhookVerifier.Verify(VectorSecret, VectorId + "x", ts, VectorSignature, VectorBody, s_vectorTime));
        Assert.False(WebhookVerifier.Verify(VectorSecret, VectorId, ts, VectorSignature.Replace("v1,", "v2,"), VectorBody, s_vectorTime));
        Assert.False(WebhookVerifier.Verify(VectorSecret, VectorId, ts, VectorSignature, VectorBody, s_vectorTime.AddMinutes(6)));
        Assert.False(WebhookVerifier.Verify(VectorSecret, VectorId, "not-a-number", VectorSignature, VectorBody, s_vectorTime));
    }

    [Fact]
    public void New_ReturnsWhsecWith32RandomBytes_WhenCalled()
    {
        var (a, b) = (WebhookSecret.New(), WebhookSecret.New());
        Assert.StartsWith("whsec_", a);
        Assert.Equal(32, WebhookSecret.KeyBytes(a).Length);
        Assert.NotEqual(a, b);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("10.20.30.40", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("100.128.0.1", false)]
    [InlineData("224.0.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("::1", true)]
    [InlineData("::", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fc00::1", true)]
    [InlineData("fd12:3456::1", true)]
    [InlineData("ff02::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("64:ff9b::7f00:1", true)]
    [InlineData("2606:4700::1111", false)]
    public void IsForbidden_RefusesNonPublicAddresses(string address, bool forbidden)
    {
        Assert.Equal(forbidden, NetworkGuard.IsForbidden(IPAddress.Parse(address)));
    }

    [Fact]
    public void RetrySchedule_DefaultsToEightAttemptsOverMoreThanAnHour_AndParsesUnits()
    {
        var schedule = new WebhookOptions().RetrySchedule();
        Assert.Equal(7, schedule.Count);
        Assert.True(schedule.Aggregate(TimeSpan.Zero, (a, b) => a + b) >= TimeSpan.FromHours(1));
        Assert.Equal([TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1.5), TimeSpan.FromHours(1)],
            new WebhookOptions { RetryDelays = "300ms, 2s,1.5m,1h" }.RetrySchedule());
        Assert.Empty(new WebhookOptions { RetryDelays = "" }.RetrySchedule());
        Assert.Throws<FormatException>(() => new WebhookOptions { RetryDelays = "5 minutes" }.RetrySchedule());
    }

    [Fact]
    public void Ids_AreStablePerJobEventAndDestination()
    {
        var at = DateTimeOffset.UtcNow;
        Assert.Equal(WebhookIds.Message("job_1", "job.succeeded"), WebhookIds.Message("job_1", "job.succeeded"));
        Assert.NotEqual(WebhookIds.Message("job_1", "job.succeeded"), WebhookIds.Message("job_1", "model.ready"));
        Assert.Equal(WebhookIds.Delivery("job_1", "job.failed", "whk_a", at), WebhookIds.Delivery("job_1", "job.failed", "whk_a", at));
        Assert.NotEqual(WebhookIds.Delivery("job_1", "job.failed", "whk_a", at), WebhookIds.Delivery("job_1", "job.failed", "whk_b", at));
        Assert.StartsWith("dlv_", WebhookIds.Delivery("job_1", "job.failed", "whk_a", at));
    }
}
