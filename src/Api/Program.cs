using Optimizer.Api.Endpoints;
using Optimizer.Api.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddApiServices();

var app = builder.Build();
await app.MigrateDatabaseAsync();
app.UseApiPipeline();

app.MapHealthEndpoints();
app.MapAdminEndpoints();
app.MapModelEndpoints();
app.MapDatasetEndpoints();
app.MapMethodEndpoints();
app.MapJobEndpoints();
app.MapJobCheckpointEndpoints();
app.MapReportEndpoints();
app.MapWebhookEndpoints();

await app.RunAsync();

/// <summary>Public so that <c>WebApplicationFactory&lt;Program&gt;</c> in the tests can start the host.</summary>
public partial class Program;
