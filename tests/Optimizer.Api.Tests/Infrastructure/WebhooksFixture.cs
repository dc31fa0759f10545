using Microsoft.AspNetCore.Hosting;

namespace Optimizer.Api.Tests.Infrastructure;

/// <summary>The host with loopback and private webhook destinations allowed (as local development runs it).</summary>
public sealed class WebhooksFixture : ApiFixture
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Optimizer:Webhooks:AllowPrivateNetworks", "true");
    }
}
