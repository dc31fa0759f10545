using Optimizer.EndToEnd.Tests.Support;

namespace Optimizer.EndToEnd.Tests;

/// <summary>
/// One Api + Worker pair for all end-to-end tests: starting them is the expensive part. One collection: its tests run
/// one at a time (the recovery tests join it with their own worker-less Api as a class fixture).
/// </summary>
[CollectionDefinition(Name)]
public sealed class ServiceCollection : ICollectionFixture<ServiceFixture>
{
    public const string Name = "service";
}
