using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Webhooks;
using Optimizer.Worker.Hosting;

namespace Optimizer.Worker.Tests.Support;

/// <summary>
/// The worker services plus the real webhook pipeline: Hangfire on the test database with a server on the
/// <c>webhooks</c> queue (as the Worker runs it), and a loopback receiver. Short retry delays by default.
/// </summary>
public sealed class WebhookHarness : IAsyncDisposable
{
    private BackgroundJobServer? _server;

    private WebhookHarness(WorkerServices services, WebhookReceiver receiver)
    {
        Services = services;
        Receiver = receiver;
    }

    public WorkerServices Services { get; }
    public WebhookReceiver Receiver { get; }

    /// <param name="settings">Overrides of <c>Optimizer:Webhooks:*</c> (e.g. <c>RetryDelays</c>, <c>AllowPrivateNetworks</c>).</param>
    /// <param name="configure">More service registrations (e.g. a pipeline registry).</param>
    public static async Task<WebhookHarness> StartAsync(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configure = null)
    {
        var values = new Dictionary<string, string?>
        {
            [$"{WebhookOptions.Section}:RetryDelays"] = "300ms,300ms,300ms",
            [$"{WebhookOptions.Section}:AllowPrivateNetworks"] = "true",
            [$"{WebhookOptions.Section}:Timeout"] = "00:00:05",
            [$"{WebhookOptions.Section}:PublicBaseUrl"] = "https://optimizer.test",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[$"{WebhookOptions.Section}:{key}"] = value;
        }
        var services = await WorkerServices.StartAsync(s =>
        {
            s.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
            s.AddSingleton<JobStorage>(sp =>
            {
                using var scope = sp.CreateScope();
                var connection = scope.ServiceProvider.GetRequiredService<OptimizerDbContext>().Database.GetConnectionString()!;
                var options = new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true, QueuePollInterval = TimeSpan.FromMilliseconds(200) };
                return new PostgreSqlStorage(new NpgsqlConnectionFactory(connection, options), options);
            });
            s.AddSingleton<IBackgroundJobClient>(sp => new BackgroundJobClient(sp.GetRequiredService<JobStorage>()));
            s.AddWorkerWebhooks();
            configure?.Invoke(s);
        });
        var harness = new WebhookHarness(services, new WebhookReceiver());
        // Hangfire's log provider is process-wide: another test's host may have left it on a disposed logger factory.
        Hangfire.Logging.LogProvider.SetCurrentLogProvider(new SilentLogProvider());
        harness._server = new BackgroundJobServer(new BackgroundJobServerOptions
        {
            Queues = [IWebhookQueue.QueueName],
            WorkerCount = 2,
            SchedulePollingInterval = TimeSpan.FromMilliseconds(200),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
            ServerName = "webhook-tests-" + Guid.NewGuid().ToString("N")[..8],
            Activator = new AspNetCoreJobActivator(services.Provider.GetRequiredService<IServiceScopeFactory>()),
        }, services.Provider.GetRequiredService<JobStorage>());
        return harness;
    }

    public T Get<T>() where T : notnull => Services.Provider.GetRequiredService<T>();

    /// <summary>Polls the database until <paramref name="done"/> holds for the delivery (or fails after 60 s).</summary>
    public async Task<WebhookDelivery> WaitForDeliveryAsync(string deliveryId, Func<WebhookDelivery, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        WebhookDelivery? delivery = null;
        while (DateTime.UtcNow < deadline)
        {
            await using var db = Services.NewDb();
            delivery = await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deliveryId);
            if (delivery is not null && done(delivery))
            {
                return delivery;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"delivery {deliveryId} never reached the expected state (status {delivery?.Status}, attempts {delivery?.Attempts}).");
        return null!;
    }

    public async ValueTask DisposeAsync()
    {
        _server?.Dispose();
        await Receiver.DisposeAsync();
        await Services.DisposeAsync();
    }

    private sealed class SilentLogProvider : Hangfire.Logging.ILogProvider
    {
        public Hangfire.Logging.ILog GetLogger(string name) => new SilentLog();

        private sealed class SilentLog : Hangfire.Logging.ILog
        {
            public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
        }
    }
}
