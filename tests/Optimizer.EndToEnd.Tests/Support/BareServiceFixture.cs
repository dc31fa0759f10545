namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>The Api with no worker: recovery tests start, kill and restart workers themselves.</summary>
public sealed class BareServiceFixture : ServiceFixture
{
    protected override bool StartsWorker => false;
}
