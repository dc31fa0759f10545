namespace Optimizer.Api.Endpoints;

/// <summary>The problem results handlers return for expected failures.</summary>
public static class Problems
{
    /// <summary>Unknown id, or another tenant's (never distinguished: no existence leak).</summary>
    public static ProblemHttpResult NotFound(string kind, string id) =>
        TypedResults.Problem(detail: $"No {kind} '{id}' exists.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    public static ProblemHttpResult Unprocessable(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Unknown reference");

    public static ProblemHttpResult Unavailable(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Dependency unavailable");

    public static ProblemHttpResult BadRange(long length) =>
        TypedResults.Problem(detail: $"The requested range is not within the file's {length} bytes.",
            statusCode: StatusCodes.Status416RangeNotSatisfiable, title: "Range not satisfiable");

    /// <summary>A limit was reached; the caller sets <c>Retry-After</c>.</summary>
    public static ProblemHttpResult TooManyRequests(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");
}
