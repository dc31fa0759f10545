using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>Uploads the project's trained fixture model (see <c>Optimizer.Worker fixture</c>) through the API.</summary>
internal static class FixtureModel
{
    public static string ModelDir => Path.Combine(TestEnvironment.FixtureDir, "model");

    public static Task<JsonObject> UploadAsync(ServiceFixture service, HttpClient client, string name = "fixture") =>
        UploadFolderAsync(service, client, ModelDir, name);

    /// <summary>Uploads every file of <paramref name="modelDir"/> as one model.</summary>
    public static async Task<JsonObject> UploadFolderAsync(ServiceFixture service, HttpClient client, string modelDir, string name)
    {
        using var form = new MultipartFormDataContent { { new StringContent(name), "name" } };
        var streams = new List<Stream>();
        try
        {
            foreach (var path in Directory.EnumerateFiles(modelDir).Order())
            {
                var stream = File.OpenRead(path);
                streams.Add(stream);
                var content = new StreamContent(stream);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                var fileName = Path.GetFileName(path);
                form.Add(content, fileName, fileName);
            }
            var response = await client.PostAsync("/v1/models", form);
            return await service.ReadJsonAsync(response, HttpStatusCode.Created);
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }
        }
    }
}
