using Optimizer.Domain.Common;
using Optimizer.Domain.Jobs;

namespace Optimizer.Domain.Tests.Jobs;

public sealed class JobTests
{
    private static Job NewJob() => new("ten_1", "quantize", "rtn", "{}");

    [Fact]
    public void RequestCancel_CancelsAtOnce_WhenQueued()
    {
        var job = NewJob();
        job.RequestCancel();
        Assert.Equal(JobStatus.Cancelled, job.Status);
        Assert.NotNull(job.FinishedAt);
    }

    [Fact]
    public void RequestCancel_AsksRunnerToStop_WhenRunning()
    {
        var job = NewJob();
        job.MarkRunning();
        job.RequestCancel();
        Assert.Equal(JobStatus.Cancelling, job.Status);
        job.MarkCancelled();
        Assert.Equal(JobStatus.Cancelled, job.Status);
    }

    [Fact]
    public void TerminalStates_NeverChange()
    {
        var job = NewJob();
        job.MarkRunning();
        job.MarkSucceeded("mdl_x", null);
        Assert.Throws<OptimizerDomainException>(job.RequestCancel);
        Assert.Throws<OptimizerDomainException>(() => job.MarkFailed("x", "y"));
        Assert.Throws<OptimizerDomainException>(job.MarkCancelled);
        Assert.Equal(JobStatus.Succeeded, job.Status);
    }

    [Fact]
    public void MarkRunning_CountsAttempts_AndRefusesNonQueued()
    {
        var job = NewJob();
        job.MarkRunning();
        Assert.Equal(1, job.Attempts);
        Assert.Throws<OptimizerDomainException>(job.MarkRunning);
    }

    [Theory]
    [InlineData(JobStatus.Succeeded, true)]
    [InlineData(JobStatus.Failed, true)]
    [InlineData(JobStatus.Cancelled, true)]
    [InlineData(JobStatus.Queued, false)]
    [InlineData(JobStatus.Running, false)]
    [InlineData(JobStatus.Cancelling, false)]
    public void IsTerminal_MatchesTheStatusMachine(JobStatus status, bool terminal) =>
        Assert.Equal(terminal, status.IsTerminal());

    [Fact]
    public void WireNames_RoundTrip()
    {
        foreach (var status in Enum.GetValues<JobStatus>())
        {
            Assert.True(JobStatusExtensions.TryParseWire(status.ToWire(), out var parsed));
            Assert.Equal(status, parsed);
        }
    }

    [Fact]
    public void Ids_AreTimeOrderedAndPrefixed()
    {
        var first = Ids.New("job");
        Thread.Sleep(2);
        var second = Ids.New("job");
        Assert.True(Ids.HasPrefix(first, "job"));
        Assert.True(string.CompareOrdinal(first, second) < 0);
    }
}
