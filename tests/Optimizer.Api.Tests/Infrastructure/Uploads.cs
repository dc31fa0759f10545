using System.Net.Http.Headers;

namespace Optimizer.Api.Tests.Infrastructure;

/// <summary>Builds multipart bodies the way clients send them, including file names a browser never would.</summary>
public static class Uploads
{
    public static Task<HttpResponseMessage> UploadModelAsync(this HttpClient client, string name, params (string FileName, byte[] Content)[] files)
    {
        var form = new MultipartFormDataContent { { new StringContent(name), "name" } };
        foreach (var (fileName, content) in files)
        {
            form.Add(FilePart("files", fileName, content));
        }
        return client.PostAsync("/v1/models", form);
    }

    public static Task<HttpResponseMessage> UploadModelAsync(this HttpClient client, string name = "tiny") =>
        client.UploadModelAsync(name, ("config.json", TestFiles.LlamaConfig), ("model.safetensors", TestFiles.ValidSafetensors()));

    public static Task<HttpResponseMessage> UploadDatasetAsync(this HttpClient client, string name, string fileName, byte[] content)
    {
        var form = new MultipartFormDataContent { { new StringContent(name), "name" }, FilePart("file", fileName, content) };
        return client.PostAsync("/v1/datasets", form);
    }

    /// <summary>Sends <paramref name="form"/> without a Content-Length, so the server can only count while reading.</summary>
    public static async Task<HttpResponseMessage> PostChunkedAsync(this HttpClient client, string url, MultipartFormDataContent form)
    {
        var bytes = await form.ReadAsByteArrayAsync();
        var content = new StreamContent(new UnknownLengthStream(bytes));
        content.Headers.ContentType = form.Headers.ContentType;
        return await client.PostAsync(url, content);
    }

    /// <summary>A minimal valid model upload (config.json + one safetensors file).</summary>
    public static MultipartFormDataContent ModelForm(string name = "tiny") =>
        new()
        {
            { new StringContent(name), "name" },
            FilePart("files", "config.json", TestFiles.LlamaConfig),
            FilePart("files", "model.safetensors", TestFiles.ValidSafetensors()),
        };

    public static MultipartFormDataContent DatasetForm(string name, string fileName, byte[] content) =>
        new() { { new StringContent(name), "name" }, FilePart("file", fileName, content) };

    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    /// <summary>A file part whose Content-Disposition carries <paramref name="fileName"/> verbatim (no normalisation).</summary>
    private static ByteArrayContent FilePart(string field, string fileName, byte[] content)
    {
        var part = new ByteArrayContent(content);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        part.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data")
        {
            Name = $"\"{field}\"",
            FileName = $"\"{fileName}\"",
        };
        return part;
    }
}
