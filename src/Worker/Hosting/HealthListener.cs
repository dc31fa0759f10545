using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Storage;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Hosting;

/// <summary>
/// <c>/healthz</c> (the process answers) and <c>/readyz</c> (PostgreSQL and the blob store answer) on
/// <c>Worker:HealthPort</c>, for container probes (Kubernetes, Docker); off when the port is unset.
/// </summary>
/// <remarks>
/// The worker is a plain .NET host without ASP.NET Core (its image is the smaller runtime image), so the BCL's
/// <see cref="HttpListener"/> serves these two paths. Readiness goes false while PostgreSQL is down: the rollout of a
/// new worker version waits until it can reach its queue.
/// </remarks>
public sealed partial class HealthListener(IServiceScopeFactory scopes, IOptions<WorkerOptions> options, ILogger<HealthListener> logger)
    : BackgroundService
{
    private static readonly TimeSpan s_checkTimeout = TimeSpan.FromSeconds(5);

    private HttpListener? _listener;

    /// <summary>True once the port is bound (false when <c>Worker:HealthPort</c> is unset).</summary>
    public bool IsListening => _listener?.IsListening == true;

    /// <summary>Binds the port before the host reports started, so a port in use fails the start instead of a probe.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.HealthPort is { } port)
        {
            _listener = new HttpListener();
            // "+" binds every interface: a probe comes from the kubelet or Docker, not from loopback.
            _listener.Prefixes.Add($"http://+:{port}/");
            _listener.Start();
            LogListening(port);
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
        _listener?.Close();
        base.Dispose();
    }

    private async Task AnswerAsync(HttpListenerContext context, CancellationToken stoppingToken)
    {
        var (status, body) = context.Request.Url?.AbsolutePath switch
        {
            "/healthz" => (200, "ok"),
            "/readyz" => await ReadyAsync(stoppingToken) is { Length: 0 } ? (200, "ready") : (503, "not ready"),
            _ => (404, "not found"),
        };
        try
        {
            var bytes = Encoding.UTF8.GetBytes(body + "\n");
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain; charset=utf-8";
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Health endpoints on port {Port}: /healthz, /readyz")]
    private partial void LogListening(int port);
}
