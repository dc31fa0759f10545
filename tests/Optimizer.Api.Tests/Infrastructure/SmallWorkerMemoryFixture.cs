using Microsoft.AspNetCore.Hosting;
using Optimizer.Api.Jobs;

namespace Optimizer.Api.Tests.Infrastructure;

/// <summary>The host told that a worker has only a little more memory than an idle worker uses.</summary>
public sealed class SmallWorkerMemoryFixture : ApiFixture
{
    public const long WorkerMemoryBytes = JobEstimator.RuntimeBytes + 4 * 1024 * 1024;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Optimizer:WorkerMemoryBytes", WorkerMemoryBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
