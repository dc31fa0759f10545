using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Optimizer.Domain.Persistence;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Hosting;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Hosting;

/// <summary>The worker's probe endpoints (the Kubernetes manifests and the image point their probes at them).</summary>
public sealed class HealthListenerTests
{
    [Fact]
    public async Task Probes_AnswerOkAndReady_WhenPostgresAndBlobAnswer()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = await WorkerServices.StartAsync();
        var port = FreePort();
        using var listener = Create(services.Provider, port);
        await listener.StartAsync(ct);
        Assert.True(listener.IsListening);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var live = await GetAsync(http, "/healthz", ct);
        var ready = await GetAsync(http, "/readyz", ct);
        var unknown = await GetAsync(http, "/metrics", ct);

        Assert.Equal((HttpStatusCode.OK, "ok"), live);
        Assert.Equal((HttpStatusCode.OK, "ready"), ready);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        await listener.StopAsync(ct);
    }

    [Fact]
    public async Task Readyz_Answers503_WhilePostgresIsUnreachable_AndHealthzStaysOk()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = await WorkerServices.StartAsync();
        var collection = new ServiceCollection();
        collection.AddLogging();
        // Nothing listens on this port: the database is "down".
        collection.AddOptimizerDb($"Host=127.0.0.1;Port={FreePort()};Username=postgres;Database=none;Timeout=2");
        collection.AddSingleton(services.Store);
        await using var provider = collection.BuildServiceProvider();
        var port = FreePort();
        using var listener = Create(provider, port);
        await listener.StartAsync(ct);
        Assert.True(listener.IsListening);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "not ready"), await GetAsync(http, "/readyz", ct));
        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(http, "/healthz", ct));
        await listener.StopAsync(ct);
    }

    [Fact]
    public async Task Listener_OpensNoPort_WhenHealthPortIsUnset()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var provider = new ServiceCollection().BuildServiceProvider();
        using var listener = new HealthListener(provider.GetRequiredService<IServiceScopeFactory>(),
            Options.Create(new WorkerOptions()), NullLogger<HealthListener>.Instance);

        await listener.StartAsync(ct);

        Assert.False(listener.IsListening);
        await listener.StopAsync(ct);
    }

    private static HealthListener Create(IServiceProvider provider, int port) =>
        new(provider.GetRequiredService<IServiceScopeFactory>(), Options.Create(new WorkerOptions { HealthPort = port }),
            NullLogger<HealthListener>.Instance);

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        return (response.StatusCode, (await response.Content.ReadAsStringAsync(ct)).Trim());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
