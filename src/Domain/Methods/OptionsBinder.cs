using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Optimizer.Domain.Common;

namespace Optimizer.Domain.Methods;

/// <summary>Turns a job's <c>params</c> JSON into its method's options record, or into field errors.</summary>
/// <remarks>
/// Validation happens here, in the Api, before anything is queued: an invalid job never reaches a worker.
/// Error keys are <c>params.&lt;field&gt;</c> so that they line up with the request body.
/// </remarks>
public static class OptionsBinder
{
    public static BindResult Bind(MethodDescriptor method, JsonElement? parameters)
    {
        var errors = new Dictionary<string, string[]>();
        object? options;
        if (parameters is null || parameters.Value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            options = Activator.CreateInstance(method.OptionsType);
        }
        else if (parameters.Value.ValueKind != JsonValueKind.Object)
        {
            errors["params"] = ["params must be a JSON object."];
            return new BindResult(null, errors);
        }
        else
        {
            try
            {
                options = parameters.Value.Deserialize(method.OptionsType, OptimizerJson.Strict);
            }
            catch (JsonException ex)
            {
                errors[FieldOf(ex.Path)] = [Describe(ex)];
                return new BindResult(null, errors);
            }
        }
        if (options is null)
        {
            errors["params"] = ["params must be a JSON object."];
            return new BindResult(null, errors);
        }
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        foreach (var result in results)
        {
            var members = result.MemberNames.Any() ? result.MemberNames : [""];
            foreach (var member in members)
            {
                var key = member.Length == 0 ? "params" : "params." + JsonNamingPolicy.SnakeCaseLower.ConvertName(member);
                errors[key] = [.. errors.GetValueOrDefault(key, []), result.ErrorMessage ?? "invalid"];
            }
        }
        return new BindResult(errors.Count == 0 ? options : null, errors);
    }

    /// <summary>Reads params that were validated at submission (the Worker's side).</summary>
    public static T Read<T>(string paramsJson) where T : class =>
        JsonSerializer.Deserialize<T>(paramsJson, OptimizerJson.Options)
        ?? throw new JsonException($"params for {typeof(T).Name} are null");

    private static string FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "params" : "params" + path.TrimStart('$');

    private static string Describe(JsonException ex)
    {
        // System.Text.Json messages name .NET types and paths; keep the first sentence, which says what is wrong.
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}

public sealed record BindResult(object? Options, IReadOnlyDictionary<string, string[]> Errors)
{
    public bool IsValid => Options is not null && Errors.Count == 0;
}
