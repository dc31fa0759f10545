namespace Optimizer.Api.Errors;

/// <summary>
/// A request that cannot be served, thrown from deep inside streaming code (uploads) where no
/// result can be returned; <see cref="ProblemExceptionHandler"/> turns it into problem+json.
/// </summary>
public sealed class ApiProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;

    public static ApiProblemException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Invalid input", detail);

    public static ApiProblemException Conflict(string detail) => new(StatusCodes.Status409Conflict, "Conflict", detail);

    public static ApiProblemException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, "Upload too large", $"The request body exceeds the configured limit of {limit} bytes.");

    public static ApiProblemException UnsupportedMediaType(string detail) =>
        new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", detail);
}
