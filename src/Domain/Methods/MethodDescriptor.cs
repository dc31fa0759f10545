using System.Text.Json.Nodes;

namespace Optimizer.Domain.Methods;

/// <summary>One entry of the method catalog, as <c>GET /v1/methods</c> shows it.</summary>
public sealed record MethodDescriptor(
    string Type,
    string Method,
    string Description,
    string? ReferenceUrl,
    string Queue,
    Type OptionsType)
{
    private JsonObject? _schema;

    /// <summary>JSON Schema of the params, defaults included (built once from the options record).</summary>
    public JsonObject ParamsSchema => _schema ??= OptionsSchema.For(OptionsType);

    public string Key => $"{Type}/{Method}";
}
