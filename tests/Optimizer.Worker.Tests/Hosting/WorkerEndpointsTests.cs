using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Optimizer.Domain.Persistence;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Hosting;
using Optimizer.Worker.Hosting.Prometheus;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Hosting;

/// <summary>The worker's probe and scrape endpoints (the Kubernetes manifests and the image point their probes at them).</summary>
public sealed class WorkerEndpointsTests
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
        using var listener = new WorkerEndpoints(provider.GetRequiredService<IServiceScopeFactory>(),
            Options.Create(new WorkerOptions()), NullLogger<WorkerEndpoints>.Instance);

        await listener.StartAsync(ct);

        Assert.False(listener.IsListening);
        await listener.StopAsync(ct);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ProbesAndScrape_AnswerOnOnePort_OrEachOnItsOwnPort(bool samePort)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var services = await WorkerServices.StartAsync();
        var probePort = FreePort();
        // 127.0.0.1 rather than the default localhost: the scrape is requested by address below.
        var settings = new WorkerOptions { HealthPort = probePort, MetricsPort = samePort ? probePort : FreePort(), MetricsHost = "127.0.0.1" };
        using var meter = new Meter("Optimizer.EndpointsTest");
        var reader = new PrometheusScrapeReader();
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter(meter.Name).AddReader(reader).Build();
        // After the provider exists: measurements nobody listens to are dropped.
        meter.CreateCounter<long>("endpoints.test.hits", "{hit}").Add(3, new KeyValuePair<string, object?>("kind", "a\"b"));
        meter.CreateHistogram<double>("endpoints.test.duration", "s").Record(0.3);
        using var listener = Create(services.Provider, settings, reader);
        await listener.StartAsync(ct);
        using var probes = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{probePort}") };
        using var scrape = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{settings.MetricsPort}") };

        var live = await GetAsync(probes, "/healthz", ct);
        var ready = await GetAsync(probes, "/readyz", ct);
        var scraped = await GetAsync(scrape, "/metrics", ct);

        Assert.Equal(samePort, WorkerHttpBindings.From(settings).SharePort);
        Assert.Equal(samePort ? 1 : 2, WorkerHttpBindings.From(settings).Prefixes.Count);
        Assert.Equal((HttpStatusCode.OK, "ok"), live);
        Assert.Equal((HttpStatusCode.OK, "ready"), ready);
        Assert.Equal(HttpStatusCode.OK, scraped.Status);
        // Named as OpenTelemetry's Prometheus exporter names them (the Api's endpoint uses it): unit, _total, buckets.
        var lines = scraped.Body.Split('\n');
        Assert.Contains("# TYPE endpoints_test_hits_total counter", lines);
        Assert.Contains("endpoints_test_hits_total{kind=\"a\\\"b\"} 3", lines);
        Assert.Contains("# TYPE endpoints_test_duration_seconds histogram", lines);
        Assert.Contains("endpoints_test_duration_seconds_bucket{le=\"0\"} 0", lines);
        Assert.Contains("endpoints_test_duration_seconds_bucket{le=\"5\"} 1", lines);
        Assert.Contains("endpoints_test_duration_seconds_bucket{le=\"+Inf\"} 1", lines);
        Assert.Contains("endpoints_test_duration_seconds_sum 0.3", lines);
        Assert.Contains("endpoints_test_duration_seconds_count 1", lines);
        // Each path answers only on the port it is configured for.
        Assert.Equal(samePort ? HttpStatusCode.OK : HttpStatusCode.NotFound, (await GetAsync(probes, "/metrics", ct)).Status);
        Assert.Equal(samePort ? HttpStatusCode.OK : HttpStatusCode.NotFound, (await GetAsync(scrape, "/healthz", ct)).Status);
        await listener.StopAsync(ct);
    }

    [Fact]
    public void Bindings_AreOnePrefixForOnePort_AndTwoForTwo()
    {
        Assert.Equal(["http://+:8081/"], WorkerHttpBindings.From(new WorkerOptions { HealthPort = 8081, MetricsPort = 8081 }).Prefixes);
        Assert.Equal(["http://+:8081/", "http://+:9464/"],
            WorkerHttpBindings.From(new WorkerOptions { HealthPort = 8081, MetricsPort = 9464, MetricsHost = "*" }).Prefixes);
        Assert.Equal(["http://localhost:9464/"], WorkerHttpBindings.From(new WorkerOptions { MetricsPort = 9464 }).Prefixes);
        Assert.Empty(WorkerHttpBindings.From(new WorkerOptions()).Prefixes);
    }

    private static WorkerEndpoints Create(IServiceProvider provider, int port) => Create(provider, new WorkerOptions { HealthPort = port });

    private static WorkerEndpoints Create(IServiceProvider provider, WorkerOptions settings, PrometheusScrapeReader? metrics = null) =>
        new(provider.GetRequiredService<IServiceScopeFactory>(), Options.Create(settings), NullLogger<WorkerEndpoints>.Instance, metrics);

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
