using Optimizer.Api.Auth;
using Optimizer.Api.Contracts.Methods;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Routing;

namespace Optimizer.Api.Endpoints;

/// <summary>The method catalog, so that scripts and Swagger users can discover methods and their params.</summary>
public static class MethodEndpoints
{
    public static IEndpointRouteBuilder MapMethodEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/methods").WithTags("Methods").RequireAuthorization(ApiPolicies.Tenant).MapGet("/", List);
        return app;
    }

    [EndpointSummary("List the methods with their params schemas")]
    public static Ok<MethodList> List(MethodQueueRoutes routes) =>
        TypedResults.Ok(new MethodList([.. MethodCatalog.All.Select(m => MethodResponse.From(m, routes.QueueFor(m)))]));
}
