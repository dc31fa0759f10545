namespace Optimizer.Api.Tests.Infrastructure;

public sealed record IdOnly(string Id);

public sealed record PageOf<T>(List<T> Data, bool HasMore, string? LastId);

/// <summary>Reads response bodies with the service's wire conventions (snake_case).</summary>
public static class JsonBodies
{
    public static async Task<T> ReadAsAsync<T>(this HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        return System.Text.Json.JsonSerializer.Deserialize<T>(body, Optimizer.Domain.Common.OptimizerJson.Options)
            ?? throw new InvalidOperationException($"Empty body: {body}");
    }

    public static async Task<T> GetAsAsync<T>(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.ReadAsAsync<T>();
    }
}
