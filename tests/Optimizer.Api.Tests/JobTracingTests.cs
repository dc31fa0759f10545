using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Optimizer.Api.Tests.Infrastructure;
using Optimizer.Tests.Shared;

namespace Optimizer.Api.Tests;

/// <summary>
/// <c>POST /v1/jobs</c> stores the request's span as the job's W3C traceparent, which the worker makes the parent of its
/// <c>job.run</c> span (Worker.Tests JobRunnerTracingTests): the client's trace reaches the worker through the queue.
/// </summary>
public sealed class JobTracingTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Create_StoresTheRequestsSpanAsTheJobsTraceParent_InTheClientsTrace()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        var client = ActivityContext.Parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null);
        // ASP.NET Core records its request spans while something listens, as the OTLP exporter does.
        using var requests = new SpanRecorder("Microsoft.AspNetCore");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs")
        {
            Content = JsonContent.Create(new { type = "quantize", method = "rtn", model_id = model.Id }),
        };
        request.Headers.Add("traceparent", $"00-{client.TraceId}-{client.SpanId}-01");

        var response = await tenant.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.ReadAsAsync<IdOnly>()).Id;
        var stored = await fixture.WithDbAsync(db => db.Jobs.Where(j => j.Id == id).Select(j => j.TraceParent).SingleAsync());
        Assert.NotNull(stored);
        var parent = ActivityContext.Parse(stored, null);
        Assert.Equal(client.TraceId, parent.TraceId);
        // The parent is the Api's own server span (a child of the client's), not the client's span itself.
        var server = Assert.Single(requests.Stopped, a => a.TraceId == client.TraceId && a.Kind == ActivityKind.Server);
        Assert.Equal(server.SpanId, parent.SpanId);
        Assert.Equal(client.SpanId, server.ParentSpanId);
    }

    [Fact]
    public async Task Create_StoresNoTraceParent_WhenTheRequestIsNotRecorded()
    {
        var tenant = await fixture.CreateTenantAsync();
        var model = await (await tenant.Http.UploadModelAsync()).ReadAsAsync<IdOnly>();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs")
        {
            Content = JsonContent.Create(new { type = "quantize", method = "rtn", model_id = model.Id }),
        };
        // Not sampled by the client, and nothing in this test records spans: the worker must not inherit "not sampled".
        request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319d-b7ad6b7169203331-00");

        var response = await tenant.Http.SendAsync(request, TestContext.Current.CancellationToken);

        var id = (await response.ReadAsAsync<IdOnly>()).Id;
        Assert.Null(await fixture.WithDbAsync(db => db.Jobs.Where(j => j.Id == id).Select(j => j.TraceParent).SingleAsync()));
    }
}
