using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>A loopback HTTP receiver that answers 200 and records every request's path and <c>webhook-id</c>.</summary>
internal sealed class WebhookSink : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public WebhookSink()
    {
        var port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string BaseUrl { get; }

    /// <summary>Every request received: (path, webhook-id).</summary>
    public ConcurrentQueue<(string Path, string WebhookId)> Received { get; } = new();

    /// <summary>Waits until at least <paramref name="count"/> requests arrived (or fails after <paramref name="timeout"/>).</summary>
    public async Task WaitForAsync(int count, TimeSpan timeout, string logs)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Received.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{Received.Count} of {count} webhooks arrived in {timeout}\n{logs}");
            await Task.Delay(200);
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The listener was closed under a pending accept: that is how the loop ends.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            await context.Request.InputStream.CopyToAsync(Stream.Null);
            Received.Enqueue((context.Request.Url!.AbsolutePath, context.Request.Headers["webhook-id"] ?? ""));
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
