using System.Net;
using System.Text.Json;

namespace Optimizer.Api.Tests.Infrastructure;

/// <summary>Asserts RFC 9457 problem responses.</summary>
public static class ProblemAssertions
{
    /// <summary>Asserts status, media type and the four members; returns the parsed body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string? detailContains = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<JsonElement>(body);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("type").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        var detail = problem.GetProperty("detail").GetString() ?? "";
        Assert.False(string.IsNullOrEmpty(detail));
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        if (detailContains is not null)
        {
            Assert.Contains(detailContains, detail, StringComparison.OrdinalIgnoreCase);
        }
        return problem;
    }
}
