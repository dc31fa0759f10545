using System.Security.Claims;
using Hangfire;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Optimizer.Api.Auth;
using Optimizer.Api.Contracts.Common;
using Optimizer.Api.Contracts.Jobs;
using Optimizer.Api.Extensions;
using Optimizer.Api.Idempotency;
using Optimizer.Api.Jobs;
using Optimizer.Domain.Idempotency;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Webhooks;

namespace Optimizer.Api.Endpoints;

/// <summary>Jobs: create (validated, then queued through Hangfire), list, get, cancel, events.</summary>
public static class JobEndpoints
{
    /// <summary>Retry-After of a submission refused for too many active jobs: a guess; jobs take minutes.</summary>
    private const string ActiveJobsRetryAfterSeconds = "30";

    public static IEndpointRouteBuilder MapJobEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/jobs").WithTags("Jobs").RequireAuthorization(ApiPolicies.Tenant);
        group.MapPost("/", Create);
        group.MapPost("/estimate", Estimate);
        group.MapGet("/", List);
        group.MapGet("/{id}", Get);
        group.MapPost("/{id}/cancel", Cancel);
        group.MapGet("/{id}/events", Events);
        return app;
    }

    [EndpointSummary("Create a job")]
    [EndpointDescription("400 with field errors (params.<field>) for an invalid body; 422 when it names unknown models or datasets (judge and task datasets included), merges models whose tensors differ (naming the first), names an MWA job_id that is unknown, not a fine-tune or has fewer than two checkpoints, or a notify URL on a loopback, link-local or private address. "
        + "Nothing is queued unless it is valid. With notify URLs the response carries notify_secret (whsec_…), which signs their deliveries. "
        + "With an Idempotency-Key header, the same key and body within 24 hours answer 200 with the job the first request created (header Idempotent-Replayed: true); "
        + "the same key with a different body answers 409. Keys are per tenant. "
        + "429 with Retry-After when the tenant already has Optimizer:MaxActiveJobsPerTenant queued, running or cancelling jobs. "
        + "422 with type urn:optimizer:problem:job-too-large when the preflight estimate (POST /v1/jobs/estimate) exceeds a worker's memory.")]
    public static async Task<Results<Accepted<JobResponse>, Ok<JobResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateJobRequest request, [FromHeader(Name = IdempotencyKeys.HeaderName)] string? idempotencyKey, ClaimsPrincipal user,
        OptimizerDbContext db, IArtifactStore store, JobSubmitter submitter, JobPreflight preflight, HttpResponse response,
        IOptions<WebhookOptions> webhookOptions, CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        (string Key, string Hash)? idempotency = null;
        if (idempotencyKey is not null)
        {
            if (IdempotencyKeys.Check(idempotencyKey) is { } keyError)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [IdempotencyKeys.HeaderName] = [keyError] });
            }
            idempotency = (idempotencyKey, IdempotencyKeys.HashRequest(request));
            if (await ReplayAsync(db, response, tenantId, idempotency.Value, cancellationToken) is { } replay)
            {
                return replay;
            }
        }
        var (valid, errors) = JobRequestValidator.Validate(request);
        if (valid is null)
        {
            return TypedResults.ValidationProblem(errors, detail: "The job is invalid; nothing was queued.");
        }
        var resolution = await MwaJobCheckpoints.ResolveAsync(db, tenantId, valid, cancellationToken);
        if (resolution.Error is not null)
        {
            return Problems.Unprocessable(resolution.Error + " Nothing was queued.");
        }
        valid = resolution.Job;
        var missing = await JobReferenceChecker.FindMissingAsync(db, tenantId, request, valid, cancellationToken);
        if (missing.Count > 0)
        {
            return Problems.Unprocessable(string.Join(" ", missing));
        }
        if (await MergeCompatibility.FindMismatchAsync(db, store, tenantId, request, valid, cancellationToken) is { } mismatch)
        {
            return TypedResults.Problem(detail: mismatch + " Nothing was queued.", statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "Models do not match");
        }
        if (await RefusedNotifyUrlAsync(request.Notify, webhookOptions.Value, cancellationToken) is { } refused)
        {
            return TypedResults.Problem(detail: refused, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Destination refused");
        }
        if (await preflight.EstimateAsync(tenantId, request, valid, cancellationToken) is { Fits: false } estimate)
        {
            return JobPreflight.TooLarge(estimate);
        }
        Job? job;
        try
        {
            job = await submitter.SubmitAsync(tenantId, request, valid, idempotency, cancellationToken);
        }
        catch (TooManyActiveJobsException ex)
        {
            response.Headers.RetryAfter = ActiveJobsRetryAfterSeconds;
            return Problems.TooManyRequests($"{ex.Message} Wait for one to finish (or cancel one) and submit again; nothing was queued.");
        }
        catch (DuplicateIdempotencyKeyException)
        {
            // A concurrent request with the same key committed first: answer with its job (or 409 if the body differs).
            return await ReplayAsync(db, response, tenantId, idempotency!.Value, cancellationToken)
                ?? Problems.Conflict("A concurrent request with this Idempotency-Key did not complete; retry with the same key.");
        }
        return job is null
            ? Problems.Unavailable("The job queue is not reachable; nothing was queued. Try again.")
            : TypedResults.Accepted($"/v1/jobs/{job.Id}", JobResponse.From(job) with { NotifySecret = job.NotifySecret });
    }

    /// <summary>Why a notify URL may not receive deliveries (SSRF rule, <see cref="NetworkGuard"/>), or null.</summary>
    private static async Task<string?> RefusedNotifyUrlAsync(IReadOnlyList<string>? urls, WebhookOptions options, CancellationToken cancellationToken)
    {
        for (var i = 0; i < (urls?.Count ?? 0); i++)
        {
            if (await NetworkGuard.CheckUrlAsync(urls![i], options.AllowPrivateNetworks, cancellationToken) is { } refused)
            {
                return $"notify[{i}]: {refused}";
            }
        }
        return null;
    }

    /// <summary>The earlier request's job (200), a 409 if the key came with another body, or null if the key is unused.</summary>
    private static async Task<Results<Accepted<JobResponse>, Ok<JobResponse>, ValidationProblem, ProblemHttpResult>?> ReplayAsync(
        OptimizerDbContext db, HttpResponse response, string tenantId, (string Key, string Hash) idempotency, CancellationToken cancellationToken)
    {
        var record = await IdempotencyKeys.FindAsync(db, tenantId, JobSubmitter.IdempotencyScope, idempotency.Key, cancellationToken);
        if (record is null)
        {
            return null;
        }
        if (record.RequestHash != idempotency.Hash)
        {
            return Problems.Conflict($"{IdempotencyKeys.HeaderName} '{idempotency.Key}' was already used with a different request body "
                + $"in the last {IdempotencyRecord.Lifetime.TotalHours:0} hours; use a new key for a new job.");
        }
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == record.ResourceId && j.TenantId == tenantId, cancellationToken);
        if (job is null)
        {
            return null;
        }
        response.Headers[IdempotencyKeys.ReplayedHeaderName] = "true";
        return TypedResults.Ok(JobResponse.From(job) with { NotifySecret = job.NotifySecret });
    }

    [EndpointSummary("Estimate a job without queueing it")]
    [EndpointDescription("Same body and validation as POST /v1/jobs. A size-based preflight: peak memory, disk, time and queue, the "
        + "worker memory it is compared with and whether it fits (POST /v1/jobs refuses a job that does not).")]
    public static async Task<Results<Ok<JobEstimate>, ValidationProblem, ProblemHttpResult>> Estimate(
        CreateJobRequest request, ClaimsPrincipal user, OptimizerDbContext db, JobPreflight preflight, CancellationToken cancellationToken)
    {
        var (valid, errors) = JobRequestValidator.Validate(request);
        if (valid is null)
        {
            return TypedResults.ValidationProblem(errors, detail: "The job is invalid.");
        }
        var tenantId = user.TenantId();
        var resolution = await MwaJobCheckpoints.ResolveAsync(db, tenantId, valid, cancellationToken);
        if (resolution.Error is not null)
        {
            return Problems.Unprocessable(resolution.Error);
        }
        valid = resolution.Job;
        var missing = await JobReferenceChecker.FindMissingAsync(db, tenantId, request, valid, cancellationToken);
        if (missing.Count > 0)
        {
            return Problems.Unprocessable(string.Join(" ", missing));
        }
        return TypedResults.Ok(await preflight.EstimateAsync(tenantId, request, valid, cancellationToken));
    }

    [EndpointSummary("List jobs")]
    public static async Task<Results<Ok<Page<JobResponse>>, ValidationProblem>> List(
        ClaimsPrincipal user, OptimizerDbContext db, [AsParameters] JobListQuery filter, CancellationToken cancellationToken)
    {
        var (status, type, limit, after) = (filter.Status, filter.Type, filter.Limit, filter.After);
        var errors = Paging.Validate(limit) ?? [];
        JobStatus parsed = default;
        if (status is not null && !JobStatusExtensions.TryParseWire(status, out parsed))
        {
            errors["status"] = ["status must be one of: queued, running, cancelling, succeeded, failed, cancelled."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var take = limit ?? Paging.DefaultLimit;
        var tenantId = user.TenantId();
        var query = db.Jobs.AsNoTracking().Where(j => j.TenantId == tenantId);
        if (status is not null)
        {
            query = query.Where(j => j.Status == parsed);
        }
        if (type is not null)
        {
            query = query.Where(j => j.Type == type);
        }
        if (!string.IsNullOrEmpty(after))
        {
            query = query.Where(j => string.Compare(j.Id, after) > 0);
        }
        var rows = await query.OrderBy(j => j.Id).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Paging.Create(rows, take, JobResponse.From, j => j.Id));
    }

    [EndpointSummary("Get a job")]
    public static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> Get(
        string id, ClaimsPrincipal user, OptimizerDbContext db, CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id && j.TenantId == tenantId, cancellationToken);
        return job is null ? Problems.NotFound("job", id) : TypedResults.Ok(JobResponse.From(job));
    }

    [EndpointSummary("Cancel a job")]
    [EndpointDescription("Queued: cancelled at once. Running: 'cancelling' until the worker stops at its next boundary. Terminal: 409.")]
    public static async Task<Results<Accepted<JobResponse>, ProblemHttpResult>> Cancel(
        string id, ClaimsPrincipal user, OptimizerDbContext db, IBackgroundJobClient hangfire, IJobEventPublisher events,
        CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == id && j.TenantId == tenantId, cancellationToken);
        if (job is null)
        {
            return Problems.NotFound("job", id);
        }
        if (job.Status.IsTerminal())
        {
            return Problems.Conflict($"Job '{id}' is already {job.Status.ToWire()}.");
        }
        job.RequestCancel();
        IReadOnlyList<string> deliveries = [];
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await db.SaveChangesAsync(cancellationToken);
            if (job.Status == JobStatus.Cancelled)
            {
                // A queued job ends here, not in a worker, so its terminal event and its job.cancelled deliveries are
                // written here, with the status (no worker writes events for a job that never started).
                var last = await db.JobEvents.Where(e => e.JobId == job.Id).MaxAsync(e => (long?)e.Seq, cancellationToken) ?? 0;
                db.JobEvents.Add(new JobEvent(job.Id, last + 1, "warning", "cancelled", "Job cancelled before it started.", null));
                await db.SaveChangesAsync(cancellationToken);
                deliveries = await events.AddDeliveriesAsync(db, job.Id, cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        events.Queue(deliveries);
        if (job.Status == JobStatus.Cancelled && job.HangfireJobId is not null)
        {
            // The row is authoritative (a worker that still picks it up sees 'cancelled'); this only tidies the queue.
            hangfire.Delete(job.HangfireJobId);
        }
        return TypedResults.Accepted($"/v1/jobs/{job.Id}", JobResponse.From(job));
    }

    [EndpointSummary("List a job's events, or stream them live")]
    [EndpointDescription("Ordered by seq; page with ?after=<seq>&limit=. With 'Accept: text/event-stream' the events are streamed as "
        + "Server-Sent Events (id: seq, event: level, data: the event JSON; plus 'event: progress' with {status, stage, fraction, message} "
        + "whenever it changes) until the job is terminal; a reconnecting client resumes after its Last-Event-ID.")]
    public static async Task<Results<Ok<Page<JobEventResponse>>, JobEventStream, ValidationProblem, ProblemHttpResult>> Events(
        string id, ClaimsPrincipal user, OptimizerDbContext db, HttpRequest http, IOptions<OptimizerOptions> options,
        [AsParameters] EventPageQuery page, CancellationToken cancellationToken)
    {
        var (after, limit) = (page.After, page.Limit);
        if (Paging.Validate(limit) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var tenantId = user.TenantId();
        if (!await db.Jobs.AnyAsync(j => j.Id == id && j.TenantId == tenantId, cancellationToken))
        {
            return Problems.NotFound("job", id);
        }
        if (JobEventStream.IsRequested(http))
        {
            return new JobEventStream(id, JobEventStream.ResumeAfter(http, after),
                TimeSpan.FromMilliseconds(options.Value.EventStreamPollMilliseconds));
        }
        var take = limit ?? Paging.DefaultLimit;
        var from = after ?? 0;
        var rows = await db.JobEvents.AsNoTracking()
            .Where(e => e.JobId == id && e.Seq > from)
            .OrderBy(e => e.Seq).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Paging.Create(rows, take, JobEventResponse.From, e => e.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }
}

/// <summary>Query of <c>GET /v1/jobs</c>: filters and paging.</summary>
/// <param name="Status">queued | running | cancelling | succeeded | failed | cancelled.</param>
/// <param name="Type">quantize | prune | merge | finetune | evaluate.</param>
/// <param name="Limit">1-100, default 50.</param>
/// <param name="After">Cursor: the last_id of the previous page.</param>
public sealed record JobListQuery(string? Status, string? Type, int? Limit, string? After);

/// <summary>Query of <c>GET /v1/jobs/{id}/events</c>.</summary>
/// <param name="After">Return events with a larger seq (the previous page's last_id).</param>
/// <param name="Limit">1-100, default 50.</param>
public sealed record EventPageQuery(long? After, int? Limit);
