namespace Optimizer.Api.Errors;

/// <summary>RFC 9110 section links used as the problem <c>type</c> for every status the API answers.</summary>
public static class ProblemTypes
{
    public static string For(int status) => status switch
    {
        400 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.1",
        401 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.2",
        403 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.4",
        404 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.5",
        405 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.6",
        406 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.7",
        409 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10",
        413 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.14",
        415 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.16",
        416 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.17",
        422 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.21",
        429 => "https://www.rfc-editor.org/rfc/rfc6585#section-4",
        501 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.2",
        503 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4",
        _ when status >= 500 => "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.1",
        _ => "about:blank",
    };

    /// <summary>Fills in <c>type</c>, <c>title</c> and a generic <c>detail</c> on every problem the service writes.</summary>
    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        problem.Status = status;
        problem.Type ??= For(status);
        problem.Detail ??= status switch
        {
            404 => "No resource exists at this address.",
            413 => "The request body is larger than this endpoint accepts.",
            405 => $"Method {context.HttpContext.Request.Method} is not allowed here.",
            415 => "The request's Content-Type is not accepted here.",
            _ => problem.Title,
        };
        // The exception (and its stack trace) never reaches the client.
        problem.Extensions.Remove("exception");
    }
}
