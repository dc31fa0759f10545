using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// One Api + Worker pair for all end-to-end tests (starting them is the expensive part), plus an Api without a worker for
/// the recovery tests, which start and kill their own. One collection: its tests run one at a time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ServiceCollection : ICollectionFixture<ServiceFixture>, ICollectionFixture<BareServiceFixture>
{
    public const string Name = "service";
}
