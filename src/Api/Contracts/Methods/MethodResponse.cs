using System.Text.Json.Nodes;
using Optimizer.Domain.Methods;

namespace Optimizer.Api.Contracts.Methods;

/// <summary>One method of the catalog with the JSON Schema of its params.</summary>
public sealed record MethodResponse(string Type, string Method, string Description, string? ReferenceUrl, JsonObject ParamsSchema, string Queue)
{
    /// <summary>The entry with the queue its jobs actually go on (<paramref name="queue"/>: after the operator's routing).</summary>
    public static MethodResponse From(MethodDescriptor method, string queue) =>
        new(method.Type, method.Method, method.Description, method.ReferenceUrl, (JsonObject)method.ParamsSchema.DeepClone(), queue);
}

/// <summary>The catalog (<c>{ "data": [...] }</c>).</summary>
public sealed record MethodList(IReadOnlyList<MethodResponse> Data);
