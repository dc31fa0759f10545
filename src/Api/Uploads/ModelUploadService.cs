using Optimizer.Api.Errors;
using Optimizer.Api.Extensions;
using Optimizer.Api.Idempotency;
using Optimizer.Domain.Common;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Idempotency;
using Optimizer.Domain.Models;
using Microsoft.Extensions.Options;

namespace Optimizer.Api.Uploads;

/// <summary>
/// Streams a multipart model upload to blob storage, validating every file on the way through.
/// All or nothing: on any failure every blob already written is deleted and no row is stored.
/// With an <c>Idempotency-Key</c> (see <see cref="UploadIdempotency"/>), a repeated upload answers the first model.
/// </summary>
public sealed class ModelUploadService(OptimizerDbContext db, IArtifactStore store, IOptions<OptimizerOptions> options, ILogger<ModelUploadService> logger)
{
    private const int MaxJsonFileBytes = 16 * 1024 * 1024;

    public async Task<UploadOutcome<Model>> UploadAsync(HttpRequest request, string tenantId, string? idempotencyKey,
        CancellationToken cancellationToken)
    {
        UploadIdempotency.Check(idempotencyKey);
        var earlier = idempotencyKey is null ? null
            : await IdempotencyKeys.FindAsync(db, tenantId, UploadIdempotency.ModelScope, idempotencyKey, cancellationToken);
        var upload = new Upload(tenantId, Ids.New("mdl"), earlier is null ? store.UploadAsync : UploadIdempotency.HashOnlyAsync);
        try
        {
            var reader = MultipartSections.Open(request, options.Value.MaxUploadBytes);
            while (await MultipartSections.NextAsync(reader, cancellationToken) is { } next)
            {
                var fileName = MultipartSections.FileName(next.Disposition);
                if (fileName is null)
                {
                    await ReadFieldAsync(upload, next.Disposition.Name.Value, next.Section, cancellationToken);
                    continue;
                }
                await StoreFileAsync(upload, fileName, next.Section.Body, cancellationToken);
            }
            var model = Complete(upload);
            var hash = UploadIdempotency.Hash(model.Name, model.Files.Select(f => (f.Name, f.SizeBytes, f.Sha256)));
            if (earlier is not null)
            {
                return await ReplayAsync(earlier, hash, tenantId, cancellationToken);
            }
            db.Models.Add(model);
            if (idempotencyKey is not null)
            {
                db.IdempotencyKeys.Add(new IdempotencyRecord(tenantId, UploadIdempotency.ModelScope, idempotencyKey, hash, model.Id));
            }
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (IdempotencyKeys.IsDuplicateKey(ex))
            {
                // A concurrent upload with the same key committed first: ours goes, theirs is the answer.
                db.ChangeTracker.Clear();
                await UploadCleanup.DeleteQuietlyAsync(store, upload.BlobPrefix, logger);
                var winner = await IdempotencyKeys.FindAsync(db, tenantId, UploadIdempotency.ModelScope, idempotencyKey!, cancellationToken)
                    ?? throw UploadIdempotency.Gone("model");
                return await ReplayAsync(winner, hash, tenantId, cancellationToken);
            }
            return new UploadOutcome<Model>(model, Replayed: false);
        }
        catch (Exception ex)
        {
            logger.LogInformation("Model upload {ModelId} refused: {Reason}", upload.ModelId, ex.Message);
            await UploadCleanup.DeleteQuietlyAsync(store, upload.BlobPrefix, logger);
            throw;
        }
    }

    private async Task<UploadOutcome<Model>> ReplayAsync(IdempotencyRecord earlier, string hash, string tenantId, CancellationToken cancellationToken)
    {
        UploadIdempotency.EnsureSameBody(earlier, hash);
        var model = await db.Models.AsNoTracking().Include(m => m.Files)
            .FirstOrDefaultAsync(m => m.Id == earlier.ResourceId && m.TenantId == tenantId, cancellationToken)
            ?? throw UploadIdempotency.Gone("model");
        return new UploadOutcome<Model>(model, Replayed: true);
    }

    private static async Task ReadFieldAsync(Upload upload, string? field, Microsoft.AspNetCore.WebUtilities.MultipartSection section, CancellationToken cancellationToken)
    {
        if (field != "name")
        {
            throw ApiProblemException.BadRequest($"Unknown form field '{field}'; send 'name' and the model files.");
        }
        upload.Name = await MultipartSections.ReadFieldAsync(section, cancellationToken);
    }

    private static async Task StoreFileAsync(Upload upload, string fileName, Stream body, CancellationToken cancellationToken)
    {
        if (ModelFileNames.Check(fileName) is { } problem)
        {
            throw ApiProblemException.BadRequest(problem + ".");
        }
        if (upload.Files.Any(f => f.Name == fileName))
        {
            throw ApiProblemException.BadRequest($"File '{fileName}' appears twice.");
        }
        var path = upload.BlobPrefix + fileName;
        StoredBlob stored;
        if (ModelFileNames.IsSafetensors(fileName))
        {
            var validating = new SafetensorsValidatingStream(body);
            try
            {
                stored = await upload.Sink(path, validating, cancellationToken);
            }
            catch (Exception ex) when (validating.Failure is not null || ex is SafetensorsFormatException)
            {
                throw ApiProblemException.BadRequest($"{fileName}: {(validating.Failure ?? ex).Message}.");
            }
            upload.Shards[fileName] = validating.Header!;
        }
        else if (fileName is ModelFileNames.Config or ModelFileNames.Index)
        {
            var bytes = await MultipartSections.ReadSmallFileAsync(body, fileName, MaxJsonFileBytes, cancellationToken);
            if (fileName == ModelFileNames.Config)
            {
                upload.Config = ModelInspector.ReadConfig(bytes);
            }
            else
            {
                upload.Index = bytes;
            }
            stored = await upload.Sink(path, new MemoryStream(bytes), cancellationToken);
        }
        else
        {
            stored = await upload.Sink(path, body, cancellationToken);
        }
        upload.Files.Add((fileName, stored));
    }

    private static Model Complete(Upload upload)
    {
        if (string.IsNullOrWhiteSpace(upload.Name) || upload.Name.Length > Model.MaxNameLength)
        {
            throw ApiProblemException.BadRequest($"The form field 'name' is required (1-{Model.MaxNameLength} characters).");
        }
        if (upload.Config is not { } config)
        {
            throw ApiProblemException.BadRequest("config.json is required.");
        }
        if (upload.Shards.Count == 0)
        {
            throw ApiProblemException.BadRequest("At least one .safetensors file is required.");
        }
        if (upload.Index is { } index)
        {
            ModelInspector.CheckIndex(index, upload.Shards);
        }
        else if (upload.Shards.Count > 1)
        {
            throw ApiProblemException.BadRequest("Several .safetensors files need model.safetensors.index.json.");
        }
        var model = new Model(upload.TenantId, upload.Name, upload.ModelId)
        {
            Architecture = config.Architecture,
            ParameterCount = ModelInspector.ParameterCount(upload.Shards.Values),
            Dtype = ModelInspector.Dtype(upload.Shards.Values, config.TorchDtype),
        };
        foreach (var (name, blob) in upload.Files)
        {
            model.AddFile(name, blob.SizeBytes, blob.Sha256);
        }
        return model;
    }

    private sealed class Upload(string tenantId, string modelId, UploadSink sink)
    {
        public UploadSink Sink { get; } = sink;
        public string TenantId { get; } = tenantId;
        public string ModelId { get; } = modelId;
        public string BlobPrefix => $"tenants/{TenantId}/models/{ModelId}/";
        public string? Name { get; set; }
        public (string Architecture, string? TorchDtype)? Config { get; set; }
        public byte[]? Index { get; set; }
        public Dictionary<string, SafetensorsHeader> Shards { get; } = new(StringComparer.Ordinal);
        public List<(string Name, StoredBlob Blob)> Files { get; } = [];
    }
}
