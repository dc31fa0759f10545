using Microsoft.Extensions.Options;
using Optimizer.Api.Errors;
using Optimizer.Api.Extensions;
using Optimizer.Api.Idempotency;
using Optimizer.Domain.Common;
using Optimizer.Domain.Datasets;
using Optimizer.Domain.Idempotency;

namespace Optimizer.Api.Uploads;

/// <summary>
/// Streams a dataset upload (<c>name</c> + <c>file</c>) to blob storage while validating and counting it; all or nothing.
/// With an <c>Idempotency-Key</c> (see <see cref="UploadIdempotency"/>), a repeated upload answers the first dataset.
/// </summary>
public sealed class DatasetUploadService(OptimizerDbContext db, IArtifactStore store, IOptions<OptimizerOptions> options, ILogger<DatasetUploadService> logger)
{
    public async Task<UploadOutcome<Dataset>> UploadAsync(HttpRequest request, string tenantId, string? idempotencyKey,
        CancellationToken cancellationToken)
    {
        UploadIdempotency.Check(idempotencyKey);
        var earlier = idempotencyKey is null ? null
            : await IdempotencyKeys.FindAsync(db, tenantId, UploadIdempotency.DatasetScope, idempotencyKey, cancellationToken);
        UploadSink sink = earlier is null ? store.UploadAsync : UploadIdempotency.HashOnlyAsync;
        var id = Ids.New("ds");
        var prefix = $"tenants/{tenantId}/datasets/{id}/";
        string? name = null;
        (string FileName, StoredBlob Blob, DatasetValidatingStream Check)? file = null;
        try
        {
            var reader = MultipartSections.Open(request, options.Value.MaxUploadBytes);
            while (await MultipartSections.NextAsync(reader, cancellationToken) is { } next)
            {
                var fileName = MultipartSections.FileName(next.Disposition);
                if (fileName is null)
                {
                    if (next.Disposition.Name.Value != "name")
                    {
                        throw ApiProblemException.BadRequest($"Unknown form field '{next.Disposition.Name.Value}'; send 'name' and 'file'.");
                    }
                    name = await MultipartSections.ReadFieldAsync(next.Section, cancellationToken);
                    continue;
                }
                if (file is not null)
                {
                    throw ApiProblemException.BadRequest("Send exactly one file.");
                }
                file = await StoreAsync(sink, prefix, fileName, next.Section.Body, cancellationToken);
            }
            var dataset = Complete(tenantId, id, name, file);
            var hash = UploadIdempotency.Hash(dataset.Name, [(dataset.FileName, dataset.SizeBytes, dataset.Sha256)]);
            if (earlier is not null)
            {
                return await ReplayAsync(earlier, hash, tenantId, cancellationToken);
            }
            db.Datasets.Add(dataset);
            if (idempotencyKey is not null)
            {
                db.IdempotencyKeys.Add(new IdempotencyRecord(tenantId, UploadIdempotency.DatasetScope, idempotencyKey, hash, dataset.Id));
            }
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (IdempotencyKeys.IsDuplicateKey(ex))
            {
                // A concurrent upload with the same key committed first: ours goes, theirs is the answer.
                db.ChangeTracker.Clear();
                await UploadCleanup.DeleteQuietlyAsync(store, prefix, logger);
                var winner = await IdempotencyKeys.FindAsync(db, tenantId, UploadIdempotency.DatasetScope, idempotencyKey!, cancellationToken)
                    ?? throw UploadIdempotency.Gone("dataset");
                return await ReplayAsync(winner, hash, tenantId, cancellationToken);
            }
            return new UploadOutcome<Dataset>(dataset, Replayed: false);
        }
        catch (Exception ex)
        {
            logger.LogInformation("Dataset upload {DatasetId} refused: {Reason}", id, ex.Message);
            await UploadCleanup.DeleteQuietlyAsync(store, prefix, logger);
            throw;
        }
    }

    private async Task<UploadOutcome<Dataset>> ReplayAsync(IdempotencyRecord earlier, string hash, string tenantId, CancellationToken cancellationToken)
    {
        UploadIdempotency.EnsureSameBody(earlier, hash);
        var dataset = await db.Datasets.AsNoTracking()
            .FirstOrDefaultAsync(d => d.Id == earlier.ResourceId && d.TenantId == tenantId, cancellationToken)
            ?? throw UploadIdempotency.Gone("dataset");
        return new UploadOutcome<Dataset>(dataset, Replayed: true);
    }

    private static async Task<(string, StoredBlob, DatasetValidatingStream)> StoreAsync(UploadSink sink, string prefix, string fileName, Stream body,
        CancellationToken cancellationToken)
    {
        var jsonl = fileName.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);
        if (!jsonl && !fileName.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiProblemException.BadRequest($"File '{fileName}' must be .txt or .jsonl.");
        }
        if (fileName.Contains('/') || fileName.Contains('\\') || fileName.Contains("..") || fileName.Length > 200)
        {
            throw ApiProblemException.BadRequest($"File name '{fileName}' contains a path separator or '..'.");
        }
        var check = new DatasetValidatingStream(body, jsonl);
        try
        {
            var blob = await sink(prefix + fileName, check, cancellationToken);
            return (fileName, blob, check);
        }
        catch (Exception ex) when (check.Failure is not null || ex is InvalidDataException)
        {
            throw ApiProblemException.BadRequest($"{fileName}: {(check.Failure ?? ex).Message}.");
        }
    }

    private static Dataset Complete(string tenantId, string id, string? name, (string FileName, StoredBlob Blob, DatasetValidatingStream Check)? file)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > Dataset.MaxNameLength)
        {
            throw ApiProblemException.BadRequest($"The form field 'name' is required (1-{Dataset.MaxNameLength} characters).");
        }
        if (file is not { } f)
        {
            throw ApiProblemException.BadRequest("The form field 'file' (a .txt or .jsonl file) is required.");
        }
        return new Dataset(tenantId, name, f.Check.Format!.Value, f.FileName, id)
        {
            Records = f.Check.Records,
            SizeBytes = f.Blob.SizeBytes,
            Sha256 = f.Blob.Sha256,
        };
    }
}
