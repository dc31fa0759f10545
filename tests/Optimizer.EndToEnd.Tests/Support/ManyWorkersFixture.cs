namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>
/// The Api without a worker (the test starts several), and limits that let one tenant queue a whole batch: more
/// active jobs than the default 8 and more requests per minute than polling a dozen jobs makes.
/// </summary>
public sealed class ManyWorkersFixture : ServiceFixture
{
    protected override bool StartsWorker => false;

    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Optimizer__MaxActiveJobsPerTenant"] = "100",
        ["Optimizer__RateLimit__PermitsPerMinute"] = "100000",
    };
}
