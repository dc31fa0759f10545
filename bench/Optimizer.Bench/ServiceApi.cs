using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Optimizer.Bench;

/// <summary>The few API calls the benchmarks make.</summary>
internal sealed class ServiceApi(HttpClient client)
{
    public async Task<JsonObject> UploadFolderAsync(string folder, string name) =>
        await UploadFilesAsync(Directory.EnumerateFiles(folder).Order().ToList(), name);

    public async Task<JsonObject> UploadFilesAsync(IReadOnlyList<string> paths, string name)
    {
        using var form = new MultipartFormDataContent { { new StringContent(name), "name" } };
        var streams = paths.Select(File.OpenRead).ToList();
        try
        {
            foreach (var (path, stream) in paths.Zip(streams))
            {
                var content = new StreamContent(stream, 1 << 20);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                form.Add(content, Path.GetFileName(path), Path.GetFileName(path));
            }
            return await ReadAsync(await client.PostAsync("/v1/models", form));
        }
        finally
        {
            streams.ForEach(s => s.Dispose());
        }
    }

    public async Task<JsonObject> SubmitAsync(object body) => await ReadAsync(await client.PostAsJsonAsync("/v1/jobs", body));

    public async Task<JsonObject> GetAsync(string path) => await ReadAsync(await client.GetAsync(path));

    public async Task DeleteAsync(string path) => (await client.DeleteAsync(path)).EnsureSuccessStatusCode();

    public async Task<JsonObject> WaitAsync(string jobId, Func<JsonObject, bool> until)
    {
        while (true)
        {
            var job = await GetAsync($"/v1/jobs/{jobId}");
            var status = job["status"]!.GetValue<string>();
            if (until(job) || status is "succeeded" or "failed" or "cancelled")
            {
                return job;
            }
            // Latencies come from the job's own timestamps, so a slower poll costs no precision; 5/s stays well
            // inside the default per-tenant rate limit (Optimizer:RateLimit:PermitsPerMinute = 600).
            await Task.Delay(200);
        }
    }

    private static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}");
        }
        return JsonNode.Parse(body)!.AsObject();
    }
}
