using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Storage;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Hosting.Prometheus;

namespace Optimizer.Worker.Hosting;

/// <summary>
/// The worker's HTTP endpoints, in one <see cref="HttpListener"/>: <c>/healthz</c> (the process answers) and
/// <c>/readyz</c> (PostgreSQL and the blob store answer) on <c>Worker:HealthPort</c> for container probes, and the
/// Prometheus scrape <c>/metrics</c> on <c>Worker:MetricsPort</c>. One port for both serves all three paths; two ports are
/// two prefixes of the same listener, each answering only its own paths. Each is off while its port is unset.
/// </summary>
/// <remarks>
/// The worker is a plain .NET host without ASP.NET Core (its image is the smaller runtime image), hence the BCL's listener.
/// Readiness goes false while PostgreSQL is down: the rollout of a new worker version waits until it can reach its queue.
/// </remarks>
public sealed partial class WorkerEndpoints(IServiceScopeFactory scopes, IOptions<WorkerOptions> options, ILogger<WorkerEndpoints> logger,
    PrometheusScrapeReader? metrics = null) : BackgroundService
{
    private static readonly TimeSpan s_checkTimeout = TimeSpan.FromSeconds(5);

    private HttpListener? _listener;
    private WorkerHttpBindings? _bindings;

    /// <summary>True once a port is bound (false when neither port is set).</summary>
    public bool IsListening => _listener?.IsListening == true;

    /// <summary>Binds the ports before the host reports started, so a port in use fails the start instead of a probe.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var bindings = WorkerHttpBindings.From(options.Value);
        if (bindings.Prefixes.Count > 0)
        {
            _listener = new HttpListener();
            foreach (var prefix in bindings.Prefixes)
            {
                _listener.Prefixes.Add(prefix);
            }
            _listener.Start();
            _bindings = bindings;
            LogListening(string.Join(", ", bindings.Prefixes));
        }
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_listener is not { } listener)
        {
            return;
        }
        using var stop = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException && stoppingToken.IsCancellationRequested)
            {
                return;
            }
            await AnswerAsync(context, stoppingToken);
        }
    }

    public override void Dispose()
    {
        // The base cancels the stopping token first, whose callback stops the listener: it must not be closed yet.
        base.Dispose();
        _listener?.Close();
    }

    private async Task AnswerAsync(HttpListenerContext context, CancellationToken stoppingToken)
    {
        var port = context.Request.LocalEndPoint.Port;
        var (status, type, body) = (context.Request.Url?.AbsolutePath, _bindings!) switch
        {
            ("/healthz", var b) when b.ProbePort == port => (200, "text/plain; charset=utf-8", "ok\n"),
            ("/readyz", var b) when b.ProbePort == port =>
                await ReadyAsync(stoppingToken) is { Length: 0 } ? (200, "text/plain; charset=utf-8", "ready\n") : (503, "text/plain; charset=utf-8", "not ready\n"),
            (WorkerHttpBindings.MetricsPath, var b) when b.MetricsPort == port && metrics is not null =>
                (200, "text/plain; version=0.0.4; charset=utf-8", metrics.Scrape()),
            _ => (404, "text/plain; charset=utf-8", "not found\n"),
        };
        try
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = type;
            await context.Response.OutputStream.WriteAsync(bytes, stoppingToken);
            context.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or OperationCanceledException or ObjectDisposedException)
        {
            // The prober hung up or the host is stopping: nothing to answer.
        }
    }

    /// <summary>The names of the dependencies that do not answer (empty when ready).</summary>
    private async Task<string> ReadyAsync(CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(s_checkTimeout);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OptimizerDbContext>();
        var store = scope.ServiceProvider.GetRequiredService<IArtifactStore>();
        var down = new List<string>();
        if (!await TryAsync(() => db.Database.CanConnectAsync(timeout.Token)))
        {
            down.Add("postgres");
        }
        if (!await TryAsync(() => store.PingAsync(timeout.Token)))
        {
            down.Add("blob");
        }
        return string.Join(", ", down);
    }

    private static async Task<bool> TryAsync(Func<Task<bool>> check)
    {
        try
        {
            return await check();
        }
        catch (Exception)
        {
            // Any failure of a dependency means "not ready"; the reason is the dependency's.
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker endpoints listening on {Prefixes}")]
    private partial void LogListening(string prefixes);
}
