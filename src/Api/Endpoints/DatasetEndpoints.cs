using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Optimizer.Api.Auth;
using Optimizer.Api.Contracts.Common;
using Optimizer.Api.Contracts.Datasets;
using Optimizer.Api.Extensions;
using Optimizer.Api.Idempotency;
using Optimizer.Api.Uploads;
using Optimizer.Domain.Jobs;

namespace Optimizer.Api.Endpoints;

/// <summary>Datasets: upload (streamed multipart), list, get, delete. Built-in datasets are visible to all and read-only.</summary>
public static class DatasetEndpoints
{
    public static IEndpointRouteBuilder MapDatasetEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/datasets").WithTags("Datasets").RequireAuthorization(ApiPolicies.Tenant);
        group.MapPost("/", Upload)
            .WithMetadata(new MultipartFormMetadata(["name"], "file", MultipleFiles: false,
                ".txt (plain text) or .jsonl with {\"text\"}, {\"prompt\",\"completion\"}, {\"prompt\",\"choices\",\"answer\"} or {\"prompt\",\"rubric\"} per line."))
            .DisableAntiforgery();
        group.MapGet("/", List);
        group.MapGet("/{id}", Get);
        group.MapDelete("/{id}", Delete);
        return app;
    }

    [EndpointSummary("Upload a dataset")]
    [EndpointDescription("The format is detected from the extension and, for .jsonl, the lines; 400 names the first bad line. "
        + "With an Idempotency-Key header, the same key and upload (name and files) within 24 hours answer 200 with the dataset the first request "
        + "created (header Idempotent-Replayed: true) and store nothing; the same key with a different upload answers 409.")]
    public static async Task<Results<Created<DatasetResponse>, Ok<DatasetResponse>>> Upload(
        HttpRequest request, [FromHeader(Name = IdempotencyKeys.HeaderName)] string? idempotencyKey, ClaimsPrincipal user,
        DatasetUploadService uploads, HttpResponse response, CancellationToken cancellationToken)
    {
        var (dataset, replayed) = await uploads.UploadAsync(request, user.TenantId(), idempotencyKey, cancellationToken);
        if (replayed)
        {
            response.Headers[IdempotencyKeys.ReplayedHeaderName] = "true";
            return TypedResults.Ok(DatasetResponse.From(dataset));
        }
        return TypedResults.Created($"/v1/datasets/{dataset.Id}", DatasetResponse.From(dataset));
    }

    [EndpointSummary("List datasets (the tenant's and the built-in ones)")]
    public static async Task<Results<Ok<Page<DatasetResponse>>, ValidationProblem>> List(
        ClaimsPrincipal user, OptimizerDbContext db, int? limit, string? after, CancellationToken cancellationToken)
    {
        if (Paging.Validate(limit) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var take = limit ?? Paging.DefaultLimit;
        var tenantId = user.TenantId();
        var query = db.Datasets.AsNoTracking().Where(d => d.TenantId == tenantId || d.TenantId == null);
        if (!string.IsNullOrEmpty(after))
        {
            query = query.Where(d => string.Compare(d.Id, after) > 0);
        }
        var rows = await query.OrderBy(d => d.Id).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Paging.Create(rows, take, DatasetResponse.From, d => d.Id));
    }

    [EndpointSummary("Get a dataset")]
    public static async Task<Results<Ok<DatasetResponse>, ProblemHttpResult>> Get(
        string id, ClaimsPrincipal user, OptimizerDbContext db, CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        var dataset = await db.Datasets.AsNoTracking()
            .FirstOrDefaultAsync(d => d.Id == id && (d.TenantId == tenantId || d.TenantId == null), cancellationToken);
        return dataset is null ? Problems.NotFound("dataset", id) : TypedResults.Ok(DatasetResponse.From(dataset));
    }

    [EndpointSummary("Delete a dataset")]
    [EndpointDescription("409 for built-in datasets and while an active job uses the dataset.")]
    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string id, ClaimsPrincipal user, OptimizerDbContext db, IArtifactStore store, CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        var dataset = await db.Datasets.FirstOrDefaultAsync(d => d.Id == id && (d.TenantId == tenantId || d.TenantId == null), cancellationToken);
        if (dataset is null)
        {
            return Problems.NotFound("dataset", id);
        }
        if (dataset.IsBuiltin)
        {
            return Problems.Conflict($"Dataset '{id}' is built in and cannot be deleted.");
        }
        var activeJob = await db.Jobs.AsNoTracking()
            .Where(j => j.TenantId == tenantId && j.CalibrationDatasetId == id
                && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running || j.Status == JobStatus.Cancelling))
            .Select(j => j.Id)
            .FirstOrDefaultAsync(cancellationToken);
        if (activeJob is not null)
        {
            return Problems.Conflict($"Dataset '{id}' is used by active job '{activeJob}'.");
        }
        await store.DeletePrefixAsync($"tenants/{tenantId}/datasets/{id}/", cancellationToken);
        db.Datasets.Remove(dataset);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
