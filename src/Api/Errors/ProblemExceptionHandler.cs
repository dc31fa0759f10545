using Microsoft.AspNetCore.Diagnostics;
using Optimizer.Domain.Common;

namespace Optimizer.Api.Errors;

/// <summary>
/// The one place where exceptions become responses. A closed set: <see cref="ApiProblemException"/> (its own
/// status), <see cref="BadHttpRequestException"/> (unreadable body, bad query value, 413/415 from the server),
/// <see cref="OptimizerDomainException"/> (409); anything else is a 500 without details.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            ApiProblemException api => (api.Status, api.Title, api.Message),
            BadHttpRequestException bad => (bad.StatusCode, TitleOf(bad.StatusCode), Describe(bad)),
            OptimizerDomainException domain => (StatusCodes.Status409Conflict, "Conflict", domain.Message),
            _ => (StatusCodes.Status500InternalServerError, "Internal error", "An unexpected error occurred; it has been logged."),
        };
        if (status >= 500)
        {
            logger.LogError(exception, "Unhandled exception for {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        }
        if (httpContext.Response.HasStarted)
        {
            return false;
        }
        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    private static string TitleOf(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "Upload too large",
        StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
        _ => "Bad request",
    };

    private static string Describe(BadHttpRequestException exception)
    {
        if (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return "The request body exceeds the configured upload limit.";
        }
        // The inner JsonException names the offending path ("$.params.bits"), which is what a caller needs.
        return exception.InnerException is System.Text.Json.JsonException json
            ? $"{exception.Message} {json.Message}"
            : exception.Message;
    }
}
