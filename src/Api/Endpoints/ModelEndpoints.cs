using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Optimizer.Api.Auth;
using Optimizer.Api.Contracts.Common;
using Optimizer.Api.Contracts.Models;
using Optimizer.Api.Extensions;
using Optimizer.Api.Idempotency;
using Optimizer.Api.Uploads;
using Optimizer.Domain.Jobs;

namespace Optimizer.Api.Endpoints;

/// <summary>Models: upload (streamed multipart), list, get, download a file (Range), delete.</summary>
public static class ModelEndpoints
{
    public static IEndpointRouteBuilder MapModelEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/models").WithTags("Models").RequireAuthorization(ApiPolicies.Tenant);
        group.MapPost("/", Upload)
            .WithMetadata(new MultipartFormMetadata(["name"], "files", MultipleFiles: true,
                "Hugging Face layout: config.json, *.safetensors (sharded with model.safetensors.index.json), optional tokenizer and generation_config files."))
            .DisableAntiforgery();
        group.MapGet("/", List);
        group.MapGet("/{id}", Get);
        group.MapGet("/{id}/files/{name}", Download);
        group.MapDelete("/{id}", Delete);
        return app;
    }

    [EndpointSummary("Upload a model")]
    [EndpointDescription("multipart/form-data with 'name' and the files; streamed to storage and validated on the way. 413 over Optimizer:MaxUploadBytes. "
        + "With an Idempotency-Key header, the same key and upload (name and files) within 24 hours answer 200 with the model the first request "
        + "created (header Idempotent-Replayed: true) and store nothing; the same key with a different upload answers 409.")]
    public static async Task<Results<Created<ModelResponse>, Ok<ModelResponse>>> Upload(
        HttpRequest request, [FromHeader(Name = IdempotencyKeys.HeaderName)] string? idempotencyKey, ClaimsPrincipal user,
        ModelUploadService uploads, HttpResponse response, CancellationToken cancellationToken)
    {
        var (model, replayed) = await uploads.UploadAsync(request, user.TenantId(), idempotencyKey, cancellationToken);
        if (replayed)
        {
            response.Headers[IdempotencyKeys.ReplayedHeaderName] = "true";
            return TypedResults.Ok(ModelResponse.From(model));
        }
        return TypedResults.Created($"/v1/models/{model.Id}", ModelResponse.From(model));
    }

    [EndpointSummary("List models")]
    public static async Task<Results<Ok<Page<ModelResponse>>, ValidationProblem>> List(
        ClaimsPrincipal user, OptimizerDbContext db, int? limit, string? after, CancellationToken cancellationToken)
    {
        if (Paging.Validate(limit) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var take = limit ?? Paging.DefaultLimit;
        var tenantId = user.TenantId();
        var query = db.Models.AsNoTracking().Include(m => m.Files).Where(m => m.TenantId == tenantId);
        if (!string.IsNullOrEmpty(after))
        {
            query = query.Where(m => string.Compare(m.Id, after) > 0);
        }
        var rows = await query.OrderBy(m => m.Id).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Paging.Create(rows, take, ModelResponse.From, m => m.Id));
    }

    [EndpointSummary("Get a model")]
    [EndpointDescription("With budget_mb (BitStack models only): the model truncated to that memory budget in MB of 2^20 bytes — size_bytes is the truncated size and 'budget' says which blocks load (docs/formats/bitstack.md). 422 when the model is not BitStack or the budget is below its minimum.")]
    public static async Task<Results<Ok<ModelResponse>, ValidationProblem, ProblemHttpResult>> Get(
        string id, ClaimsPrincipal user, OptimizerDbContext db, IArtifactStore store,
        [FromQuery(Name = "budget_mb")] double? budgetMb, CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        var model = await db.Models.AsNoTracking().Include(m => m.Files)
            .FirstOrDefaultAsync(m => m.Id == id && m.TenantId == tenantId, cancellationToken);
        if (model is null)
        {
            return Problems.NotFound("model", id);
        }
        return budgetMb is null
            ? TypedResults.Ok(ModelResponse.From(model))
            : await ModelBudget.TruncateAsync(model, budgetMb.Value, store, cancellationToken);
    }

    [EndpointSummary("Download one file of a model")]
    [EndpointDescription("Streams the file; supports a single 'Range: bytes=a-b' (206, 416) and If-None-Match on the SHA-256 ETag.")]
    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Download(
        string id, string name, HttpContext http, OptimizerDbContext db, IArtifactStore store)
    {
        var request = http.Request;
        var cancellationToken = http.RequestAborted;
        var tenantId = http.User.TenantId();
        var model = await db.Models.AsNoTracking().Include(m => m.Files)
            .FirstOrDefaultAsync(m => m.Id == id && m.TenantId == tenantId, cancellationToken);
        var file = model?.Files.FirstOrDefault(f => f.Name == name);
        if (model is null || file is null)
        {
            return Problems.NotFound("model file", $"{id}/{name}");
        }
        if (!RangeIsSatisfiable(request, file.SizeBytes))
        {
            request.HttpContext.Response.Headers.ContentRange = $"bytes */{file.SizeBytes}";
            return Problems.BadRange(file.SizeBytes);
        }
        // The blob stream is seekable (lazy ranged reads), so the framework answers Range, 206 and 416 itself.
        var stream = await store.OpenReadAsync(model.BlobPrefix + file.Name, cancellationToken);
        var contentType = name.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "application/octet-stream";
        return TypedResults.Stream(stream, contentType, fileDownloadName: file.Name,
            entityTag: new EntityTagHeaderValue($"\"{file.Sha256}\""), enableRangeProcessing: true);
    }

    /// <summary>
    /// The framework answers an unsatisfiable range with an empty 416; we answer it as a problem instead.
    /// Only single byte ranges are checked: anything else the framework serves as a plain 200.
    /// </summary>
    private static bool RangeIsSatisfiable(HttpRequest request, long length)
    {
        if (!RangeHeaderValue.TryParse(request.Headers.Range.ToString(), out var range)
            || range.Unit != "bytes" || range.Ranges.Count != 1)
        {
            return true;
        }
        var item = range.Ranges.First();
        return item.From is { } from ? from < length : item.To is > 0 && length > 0;
    }

    [EndpointSummary("Delete a model")]
    [EndpointDescription("409 while a queued, running or cancelling job uses it.")]
    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string id, ClaimsPrincipal user, OptimizerDbContext db, IArtifactStore store, CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        var model = await db.Models.FirstOrDefaultAsync(m => m.Id == id && m.TenantId == tenantId, cancellationToken);
        if (model is null)
        {
            return Problems.NotFound("model", id);
        }
        var active = await db.Jobs.AsNoTracking()
            .Where(j => j.TenantId == tenantId
                && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running || j.Status == JobStatus.Cancelling))
            .Select(j => new { j.Id, j.ModelId, j.BaseModelId, j.ModelsJson })
            .ToListAsync(cancellationToken);
        var activeJob = active.FirstOrDefault(j => j.ModelId == id || j.BaseModelId == id || (j.ModelsJson?.Contains($"\"{id}\"") ?? false));
        if (activeJob is not null)
        {
            return Problems.Conflict($"Model '{id}' is used by active job '{activeJob.Id}'; cancel it or wait until it ends.");
        }
        await store.DeletePrefixAsync(model.BlobPrefix, cancellationToken);
        db.Models.Remove(model);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
