using System.Collections.Concurrent;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Storage;

namespace Optimizer.Worker.Execution;

/// <summary>
/// Finished units of work (a layer, a training step) kept in blob storage under the job
/// (<c>tenants/{t}/jobs/{id}/checkpoint/{key}/</c>), so the next attempt after a crash restores them instead of redoing them.
/// The runner deletes them when the job ends, whatever the outcome.
/// </summary>
/// <remarks>
/// A key counts as saved only once its marker blob is written after all its files: a worker killed halfway through
/// <see cref="SaveAsync"/> leaves an incomplete key, which the next attempt ignores and overwrites.
/// </remarks>
public sealed class JobCheckpoint
{
    private const string Marker = ".complete";
    private readonly IArtifactStore _store;
    private readonly string _localDir;
    private readonly TimeSpan _delayAfterSave;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<string, bool> _savedHere = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _restored = new(StringComparer.Ordinal);
    private HashSet<string>? _complete;

    /// <param name="store">Blob storage.</param>
    /// <param name="job">The job the checkpoints belong to.</param>
    /// <param name="localDir">Scratch folder for restored files and files about to be saved.</param>
    /// <param name="delayAfterSave">Test-only pause after each save (zero in production).</param>
    public JobCheckpoint(IArtifactStore store, Job job, string localDir, TimeSpan delayAfterSave = default)
    {
        _store = store;
        _localDir = localDir;
        _delayAfterSave = delayAfterSave;
        Prefix = JobArtifacts.CheckpointPrefix(job.TenantId, job.Id);
    }

    /// <summary>Blob folder of this job's checkpoints.</summary>
    public string Prefix { get; }

    /// <summary>How many keys this attempt restored from an earlier one (each once; keys it saved itself and read back do not count).</summary>
    public int Restored => _restored.Count;

    /// <summary>A fresh local folder to write a key's files into before <see cref="SaveAsync"/>.</summary>
    public string ScratchFor(string key)
    {
        var dir = Path.Combine(_localDir, "save", Sanitize(key));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Downloads the files saved under <paramref name="key"/> into a local folder; null when the key was never completely saved.</summary>
    public async Task<string?> TryRestoreAsync(string key, CancellationToken cancellationToken)
    {
        var keyPrefix = Prefix + Sanitize(key) + "/";
        var complete = await CompleteKeysAsync(cancellationToken);
        if (!complete.Contains(Sanitize(key)))
        {
            return null;
        }
        var dir = Path.Combine(_localDir, "restore", Sanitize(key));
        Directory.CreateDirectory(dir);
        foreach (var blob in await _store.ListAsync(keyPrefix, cancellationToken))
        {
            var name = blob[keyPrefix.Length..];
            if (name != Marker)
            {
                await _store.DownloadToFileAsync(blob, Path.Combine(dir, name), cancellationToken);
            }
        }
        if (!_savedHere.ContainsKey(Sanitize(key)))
        {
            _restored[Sanitize(key)] = true;
        }
        return dir;
    }

    /// <summary>Uploads <paramref name="files"/> (local paths; stored by file name) as the checkpoint of <paramref name="key"/>.</summary>
    public async Task SaveAsync(string key, IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        var keyPrefix = Prefix + Sanitize(key) + "/";
        foreach (var file in files)
        {
            await using var stream = File.OpenRead(file);
            await _store.UploadAsync(keyPrefix + Path.GetFileName(file), stream, cancellationToken);
        }
        await _store.UploadAsync(keyPrefix + Marker, new MemoryStream([]), cancellationToken);
        await MarkSavedAsync(Sanitize(key), cancellationToken);
        foreach (var file in files)
        {
            File.Delete(file);
        }
        if (_delayAfterSave > TimeSpan.Zero)
        {
            await Task.Delay(_delayAfterSave, cancellationToken);
        }
    }

    /// <summary>Lists the completed keys once per attempt: one listing instead of one lookup per layer.</summary>
    private async Task<HashSet<string>> CompleteKeysAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_complete is null)
            {
                var blobs = await _store.ListAsync(Prefix, cancellationToken);
                _complete = [.. blobs
                    .Where(b => b.EndsWith("/" + Marker, StringComparison.Ordinal))
                    .Select(b => b[Prefix.Length..^(Marker.Length + 1)])];
            }
            return _complete;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A key saved by this attempt can be read back by it (BitStack's second pass), and is not counted as restored.</summary>
    private async Task MarkSavedAsync(string key, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _savedHere[key] = true;
            _complete?.Add(key);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Keys are tensor or step names; anything but letters, digits, '.', '-' and '_' becomes '_'.</summary>
    private static string Sanitize(string key) =>
        new([.. key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')]);
}
