using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Optimizer.Worker.Tests.Support;

/// <summary>
/// A real HTTP receiver on loopback (HttpListener): records every request and answers with scripted status codes
/// (then 200), optionally redirecting or answering late.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<int> _script = new();
    private readonly Task _loop;

    public WebhookReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUrl = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string BaseUrl { get; }

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>Where a 3xx answer points (set with <see cref="Answer"/>).</summary>
    public string? RedirectTo { get; set; }

    /// <summary>How long to wait before answering (to provoke a timeout).</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Answer the next requests with these codes, then 200.</summary>
    public void Answer(params int[] statusCodes)
    {
        foreach (var code in statusCodes)
        {
            _script.Enqueue(code);
        }
    }

    public IReadOnlyList<ReceivedRequest> To(string path) => [.. Requests.Where(r => r.Path == path)];

    /// <summary>Waits until <paramref name="count"/> requests reached <paramref name="path"/>.</summary>
    public async Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(string path, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (To(path).Count >= count)
            {
                return To(path);
            }
            await Task.Delay(50);
        }
        Assert.Fail($"{path} received {To(path).Count} requests, expected {count}.");
        return [];
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null)
                .ToDictionary(k => k!.ToLowerInvariant(), k => context.Request.Headers[k]!);
            Requests.Enqueue(new ReceivedRequest(context.Request.Url!.AbsolutePath, context.Request.HttpMethod, headers, body, DateTimeOffset.UtcNow));
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay);
            }
            var status = _script.TryDequeue(out var scripted) ? scripted : 200;
            context.Response.StatusCode = status;
            if (status is >= 300 and < 400 && RedirectTo is not null)
            {
                context.Response.RedirectLocation = RedirectTo;
            }
            context.Response.Close();
        }
        catch (Exception)
        {
            // The sender gave up (timeout test): nothing to answer.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}

/// <summary>One received request: path, method, headers (lower-case names), raw body, arrival time.</summary>
public sealed record ReceivedRequest(string Path, string Method, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset At);
