using System.Security.Cryptography;

namespace Optimizer.Domain.Common;

/// <summary>Opaque, type-prefixed, time-ordered ids (<c>mdl_…</c>, <c>job_…</c>).</summary>
/// <remarks>
/// The first 12 hex digits are the creation time in milliseconds, so ordering by id is
/// ordering by creation: cursor pagination (<c>?after=&lt;id&gt;</c>) needs nothing else.
/// </remarks>
public static class Ids
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    public static string New(string prefix)
    {
        Span<byte> random = stackalloc byte[10];
        RandomNumberGenerator.Fill(random);
        Span<char> tail = stackalloc char[10];
        for (var i = 0; i < tail.Length; i++)
        {
            tail[i] = Alphabet[random[i] & 31];
        }
        var millis = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return $"{prefix}_{millis:x12}{tail}";
    }

    /// <summary>True when <paramref name="id"/> looks like an id of this kind (cheap guard before a lookup).</summary>
    public static bool HasPrefix(string? id, string prefix) =>
        id is not null && id.Length > prefix.Length + 1 && id.StartsWith(prefix + "_", StringComparison.Ordinal);
}
