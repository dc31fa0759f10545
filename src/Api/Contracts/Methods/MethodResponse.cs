using System.Text.Json.Nodes;
using Optimizer.Domain.Methods;

namespace Optimizer.Api.Contracts.Methods;

/// <summary>One method of the catalog with the JSON Schema of its params.</summary>
public sealed record MethodResponse(string Type, string Method, string Description, string? ReferenceUrl, JsonObject ParamsSchema, string Queue)
{
    public static MethodResponse From(MethodDescriptor method) =>
        new(method.Type, method.Method, method.Description, method.ReferenceUrl, (JsonObject)method.ParamsSchema.DeepClone(), method.Queue);
}

/// <summary>The catalog (<c>{ "data": [...] }</c>).</summary>
public sealed record MethodList(IReadOnlyList<MethodResponse> Data);
