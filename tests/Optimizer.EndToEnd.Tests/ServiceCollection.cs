using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>One Api + Worker pair for all end-to-end tests: starting them is the expensive part.</summary>
[CollectionDefinition(Name)]
public sealed class ServiceCollection : ICollectionFixture<ServiceFixture>
{
    public const string Name = "service";
}
