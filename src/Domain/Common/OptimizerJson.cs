using System.Text.Json;
using System.Text.Json.Serialization;

namespace Optimizer.Domain.Common;

/// <summary>The wire conventions of API.md: snake_case names and enum values.</summary>
public static class OptimizerJson
{
    /// <summary>For responses and stored JSON.</summary>
    public static readonly JsonSerializerOptions Options = Create(strict: false);

    /// <summary>For user-supplied params: unknown fields and numbers in strings are errors, not silently ignored.</summary>
    public static readonly JsonSerializerOptions Strict = Create(strict: true);

    private static JsonSerializerOptions Create(bool strict)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,
            NumberHandling = JsonNumberHandling.Strict,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        if (strict)
        {
            options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            options.RespectNullableAnnotations = true;
            options.RespectRequiredConstructorParameters = true;
        }
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
