using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Optimizer.Api.Errors;

namespace Optimizer.Api.Uploads;

/// <summary>Opens a request body as a streamed multipart reader (no form buffering, no IFormFile).</summary>
public static class MultipartSections
{
    private const int MaxFieldBytes = 4096;

    public static MultipartReader Open(HttpRequest request, long limit)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiProblemException.UnsupportedMediaType("Send the upload as multipart/form-data.");
        }
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw ApiProblemException.BadRequest("The multipart Content-Type has no boundary.");
        }
        if (request.ContentLength > limit)
        {
            throw ApiProblemException.TooLarge(limit);
        }
        // Kestrel's server-wide cap stays at its default for JSON bodies; upload requests raise it to the upload limit.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limit;
        }
        // The default body limit of MultipartReader is 128 MB per section; the whole request is capped by BodyLimitStream instead.
        return new MultipartReader(boundary, new BodyLimitStream(request.Body, limit)) { BodyLengthLimit = null };
    }

    /// <summary>Reads the next section; malformed multipart framing becomes a 400.</summary>
    public static async Task<(MultipartSection Section, ContentDispositionHeaderValue Disposition)?> NextAsync(
        MultipartReader reader, CancellationToken cancellationToken)
    {
        MultipartSection? section;
        try
        {
            section = await reader.ReadNextSectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is (IOException or InvalidDataException) and not BadHttpRequestException)
        {
            throw ApiProblemException.BadRequest($"The multipart body is malformed: {ex.Message}");
        }
        if (section is null)
        {
            return null;
        }
        if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiProblemException.BadRequest("Every multipart section needs 'Content-Disposition: form-data'.");
        }
        return (section, disposition);
    }

    public static string? FileName(ContentDispositionHeaderValue disposition)
    {
        var name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar).Value;
        return string.IsNullOrEmpty(name) ? HeaderUtilities.RemoveQuotes(disposition.FileName).Value : name;
    }

    /// <summary>Reads a small text field (bounded, UTF-8).</summary>
    public static async Task<string> ReadFieldAsync(MultipartSection section, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxFieldBytes + 1];
        var total = 0;
        int read;
        while ((read = await section.Body.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
            if (total > MaxFieldBytes)
            {
                throw ApiProblemException.BadRequest($"A text field is longer than {MaxFieldBytes} bytes.");
            }
        }
        try
        {
            return new System.Text.UTF8Encoding(false, true).GetString(buffer, 0, total).Trim();
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw ApiProblemException.BadRequest("A text field is not valid UTF-8.");
        }
    }

    /// <summary>Reads a small file wholly into memory (config and index JSON), refusing more than <paramref name="max"/> bytes.</summary>
    public static async Task<byte[]> ReadSmallFileAsync(Stream body, string name, int max, CancellationToken cancellationToken)
    {
        using var memory = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            memory.Write(buffer, 0, read);
            if (memory.Length > max)
            {
                throw ApiProblemException.BadRequest($"{name} is larger than {max} bytes.");
            }
        }
        return memory.ToArray();
    }
}
