using System.Net;
using System.Net.Sockets;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Worker.Webhooks;

/// <summary>
/// The HttpClient that delivers webhooks: no redirects, no proxy, no cookies, and a connect step that refuses
/// non-public addresses (<see cref="NetworkGuard"/>) on the address it actually connects to.
/// </summary>
/// <remarks>
/// Checking the URL's host once at registration is not enough: DNS can answer differently at delivery time
/// (rebinding). Here the name is resolved, filtered and connected in one step, so what was checked is what is used.
/// </remarks>
public static class GuardedHttpClient
{
    public static HttpClient Create(bool allowPrivateNetworks) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, allowPrivateNetworks, cancellationToken),
    })
    {
        // Each attempt has its own timeout (WebhookOptions.Timeout) through its cancellation token.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, bool allowPrivateNetworks, CancellationToken cancellationToken)
    {
        var host = endPoint.Host.Trim('[', ']');
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = allowPrivateNetworks ? addresses : [.. addresses.Where(a => !NetworkGuard.IsForbidden(a))];
        if (allowed.Length == 0)
        {
            throw new WebhookDestinationRefusedException(
                $"Refused: {host} resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}, not a public address.");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>The destination resolved to a loopback, link-local or private address (SSRF guard).</summary>
public sealed class WebhookDestinationRefusedException(string message) : IOException(message);
