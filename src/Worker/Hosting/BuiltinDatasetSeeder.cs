using System.Security.Cryptography;
using System.Text;
using Azure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Optimizer.Domain.Datasets;
using Optimizer.Domain.Persistence;
using Optimizer.Domain.Storage;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling.Corpora;

namespace Optimizer.Worker.Hosting;

/// <summary>
/// Creates the built-in datasets (<c>ds_builtin_moby_dick_heldout</c>, <c>ds_builtin_moby_dick_calibration</c>)
/// at start-up from the corpus in <c>Worker:CorpusDir</c>.
/// </summary>
/// <remarks>
/// Idempotent and safe with several workers starting at once: the blob is written with identical bytes by
/// whoever gets there, and a row another worker inserted first (unique violation) is accepted as done.
/// </remarks>
public sealed partial class BuiltinDatasetSeeder(
    OptimizerDbContext db,
    IArtifactStore store,
    IOptions<WorkerOptions> options,
    ILogger<BuiltinDatasetSeeder> logger)
{
    public const string HeldOutId = "ds_builtin_moby_dick_heldout";
    public const string CalibrationId = "ds_builtin_moby_dick_calibration";

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        var corpusDir = options.Value.CorpusDir;
        if (string.IsNullOrWhiteSpace(corpusDir))
        {
            LogNoCorpus();
            return;
        }
        // The split is defined once, in MobyDickCorpus; the datasets are its two halves verbatim.
        var corpus = MobyDickCorpus.Load(corpusDir);
        await SeedOneAsync(HeldOutId, "Moby-Dick (held-out chapters)", "moby_dick_heldout.txt", corpus.HeldOutText, cancellationToken);
        await SeedOneAsync(CalibrationId, "Moby-Dick (calibration chapters)", "moby_dick_calibration.txt", corpus.TrainText, cancellationToken);
    }

    private async Task SeedOneAsync(string id, string name, string fileName, string text, CancellationToken cancellationToken)
    {
        var existing = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        var bytes = Encoding.UTF8.GetBytes(text);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var dataset = existing ?? new Dataset(null, name, DatasetFormat.Text, fileName, id);
        if (existing is not null && existing.Sha256 == sha && await store.ExistsAsync(existing.BlobPath, cancellationToken))
        {
            return;
        }
        await UploadAsync(dataset.BlobPath, bytes, cancellationToken);
        if (existing is not null)
        {
            // Same id, different corpus bytes (the corpus package changed): keep the row in step with the blob.
            await db.Datasets.Where(d => d.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Sha256, sha)
                .SetProperty(d => d.SizeBytes, bytes.LongLength)
                .SetProperty(d => d.Records, CountLines(text)), cancellationToken);
            return;
        }
        dataset.Sha256 = sha;
        dataset.SizeBytes = bytes.LongLength;
        dataset.Records = CountLines(text);
        db.Datasets.Add(dataset);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            LogSeeded(id, bytes.LongLength);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Another worker inserted it between our check and our insert.
            db.Entry(dataset).State = EntityState.Detached;
        }
    }

    /// <summary>Two workers uploading the same blob at once can make one commit fail (block list conflict); retry it.</summary>
    private async Task UploadAsync(string path, byte[] bytes, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var stream = new MemoryStream(bytes, writable: false);
                await store.UploadAsync(path, stream, cancellationToken);
                return;
            }
            catch (RequestFailedException) when (attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt + Random.Shared.Next(200)), cancellationToken);
            }
        }
    }

    private static long CountLines(string text) => text.Length == 0 ? 0 : text.Count(c => c == '\n') + (text[^1] == '\n' ? 0 : 1);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker:CorpusDir is not set; built-in datasets are not seeded")]
    private partial void LogNoCorpus();

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded built-in dataset {DatasetId} ({Bytes} bytes)")]
    private partial void LogSeeded(string datasetId, long bytes);
}
