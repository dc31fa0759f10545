using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Optimizer.Bench;

/// <summary>The load test's webhook receiver on loopback: answers 200 and counts each <c>webhook-id</c> it receives.</summary>
internal sealed class LoadSink : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public LoadSink()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/";
        }
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public string Url { get; }

    /// <summary>How many times each webhook-id arrived.</summary>
    public ConcurrentDictionary<string, int> Received { get; } = new();

    public int Total => Received.Values.Sum();

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Closed under a pending accept: how the loop ends.
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
            Received.AddOrUpdate(context.Request.Headers["webhook-id"] ?? "", 1, (_, n) => n + 1);
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }
}
