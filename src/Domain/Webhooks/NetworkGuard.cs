using System.Net;
using System.Net.Sockets;

namespace Optimizer.Domain.Webhooks;

/// <summary>
/// The SSRF rule for webhook destinations: loopback, link-local, private, CGNAT, multicast and other non-public
/// addresses are refused unless <see cref="WebhookOptions.AllowPrivateNetworks"/> is set.
/// </summary>
/// <remarks>
/// Checked twice: when a URL is registered (so a user hears about it at once) and on the address the delivery
/// actually connects to (<c>ConnectCallback</c> in the Worker), so a DNS answer that changes in between
/// (rebinding) cannot reach an internal service.
/// </remarks>
public static class NetworkGuard
{
    /// <summary>True when <paramref name="address"/> is not a public unicast address.</summary>
    public static bool IsForbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] is 0 or 10 or 127 or >= 224            // this network, private, loopback, multicast + reserved
                || (b[0] == 100 && b[1] is >= 64 and < 128)      // CGNAT 100.64/10
                || (b[0] == 169 && b[1] == 254)                  // link-local (cloud metadata lives here)
                || (b[0] == 172 && b[1] is >= 16 and < 32)       // private 172.16/12
                || (b[0] == 192 && b[1] == 168)                  // private 192.168/16
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)       // IETF protocol assignments 192.0.0/24
                || (b[0] == 198 && b[1] is 18 or 19);            // benchmarking 198.18/15
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            return IPAddress.IPv6Any.Equals(address) || IPAddress.IPv6Loopback.Equals(address)
                || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xfe) == 0xfc                         // unique local fc00::/7
                || (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && IsForbidden(new IPAddress(b[12..]))); // NAT64 of a forbidden v4
        }
        return true;
    }

    /// <summary>
    /// Null when <paramref name="url"/> may receive deliveries, else why not. Resolves the host (an unresolvable
    /// host is refused: it could only fail later).
    /// </summary>
    public static async Task<string?> CheckUrlAsync(string url, bool allowPrivateNetworks, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return "Must be an absolute http or https URL.";
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "Must not contain credentials (user:password@).";
        }
        if (allowPrivateNetworks)
        {
            return null;
        }
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
        }
        catch (SocketException)
        {
            return $"The host '{uri.Host}' does not resolve.";
        }
        var forbidden = addresses.FirstOrDefault(IsForbidden);
        return addresses.Length == 0 ? $"The host '{uri.Host}' does not resolve."
            : forbidden is not null ? $"The host '{uri.Host}' resolves to {forbidden}, a loopback, link-local or private address; webhooks go to public addresses only."
            : null;
    }
}
