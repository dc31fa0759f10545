using Microsoft.AspNetCore.Hosting;

namespace Optimizer.Api.Tests.Infrastructure;

/// <summary>The host with tiny limits: a few requests per minute and two active jobs per tenant.</summary>
public sealed class SmallLimitsFixture : ApiFixture
{
    public const int PermitsPerMinute = 8;
    public const int MaxActiveJobs = 2;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Optimizer:RateLimit:PermitsPerMinute", PermitsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Optimizer:MaxActiveJobsPerTenant", MaxActiveJobs.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
