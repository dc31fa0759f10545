using System.Security.Cryptography;
using System.Text;
using Optimizer.Api.Errors;
using Optimizer.Domain.Idempotency;

namespace Optimizer.Api.Idempotency;

/// <summary>Where an upload's streams go: blob storage, or (replaying an idempotent request) nowhere but a hash.</summary>
public delegate Task<StoredBlob> UploadSink(string path, Stream content, CancellationToken cancellationToken);

/// <summary>
/// <c>Idempotency-Key</c> on streamed uploads (models, datasets). The body cannot be hashed before it is read, so the
/// request hash is computed while streaming: the form's name and every file's name, size and SHA-256. When the key was
/// used before, the body is streamed through <see cref="HashOnlyAsync"/> (validated and hashed, nothing stored) and
/// compared; a first use stores the record in the same transaction as the resource (see <see cref="IdempotencyKeys"/>).
/// </summary>
public static class UploadIdempotency
{
    /// <summary>Scope of model uploads in the idempotency table.</summary>
    public const string ModelScope = "models";

    /// <summary>Scope of dataset uploads in the idempotency table.</summary>
    public const string DatasetScope = "datasets";

    /// <summary>Reads the stream to its end, hashing it, and stores nothing.</summary>
    public static async Task<StoredBlob> HashOnlyAsync(string path, Stream content, CancellationToken cancellationToken)
    {
        using var hashing = new HashingStream(content);
        await hashing.CopyToAsync(Stream.Null, cancellationToken);
        return new StoredBlob(path, hashing.BytesRead, hashing.FinishHash());
    }

    /// <summary>SHA-256 over the upload's name and its files (ordered by name), so the order of the form parts does not matter.</summary>
    public static string Hash(string name, IEnumerable<(string Name, long SizeBytes, string Sha256)> files)
    {
        var canonical = new StringBuilder().Append(name).Append('\n');
        foreach (var file in files.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            canonical.Append(file.Name).Append('\t').Append(file.SizeBytes).Append('\t').Append(file.Sha256).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }

    /// <summary>Throws 409 when the key came with another body the first time.</summary>
    public static void EnsureSameBody(IdempotencyRecord earlier, string hash)
    {
        if (earlier.RequestHash != hash)
        {
            throw ApiProblemException.Conflict($"{IdempotencyKeys.HeaderName} '{earlier.Key}' was already used with a different upload "
                + $"in the last {IdempotencyRecord.Lifetime.TotalHours:0} hours; use a new key for a new upload.");
        }
    }

    /// <summary>Throws 400 when the header is present but not an acceptable key.</summary>
    public static void Check(string? key)
    {
        if (key is not null && IdempotencyKeys.Check(key) is { } problem)
        {
            throw ApiProblemException.BadRequest(problem);
        }
    }

    /// <summary>The answer to a replay whose first resource was deleted meanwhile.</summary>
    public static ApiProblemException Gone(string kind) =>
        ApiProblemException.Conflict($"The {kind} created with this {IdempotencyKeys.HeaderName} was deleted; use a new key.");
}

/// <summary>What an upload produced, and whether it is the resource of an earlier request with the same key.</summary>
public sealed record UploadOutcome<T>(T Resource, bool Replayed);
