using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using Optimizer.Domain.Common;

namespace Optimizer.Domain.Methods;

/// <summary>JSON Schema of an options record, with the defaults, descriptions and ranges its attributes state.</summary>
public static class OptionsSchema
{
    public static JsonObject For(Type optionsType)
    {
        var defaults = JsonSerializer.SerializeToNode(Activator.CreateInstance(optionsType), optionsType, OptimizerJson.Options)!.AsObject();
        var exporter = new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = (context, node) =>
            {
                if (context.PropertyInfo?.AttributeProvider is not ICustomAttributeProvider provider || node is not JsonObject schema)
                {
                    return node;
                }
                var description = provider.GetCustomAttributes(typeof(DescriptionAttribute), false).OfType<DescriptionAttribute>().FirstOrDefault();
                if (description is not null)
                {
                    schema["description"] = description.Description;
                }
                var range = provider.GetCustomAttributes(typeof(RangeAttribute), false).OfType<RangeAttribute>().FirstOrDefault();
                if (range is not null)
                {
                    schema["minimum"] = JsonValue.Create(Convert.ToDouble(range.Minimum));
                    schema["maximum"] = JsonValue.Create(Convert.ToDouble(range.Maximum));
                }
                var allowed = provider.GetCustomAttributes(typeof(AllowedValuesAttribute), false).OfType<AllowedValuesAttribute>().FirstOrDefault();
                if (allowed is not null)
                {
                    schema["enum"] = new JsonArray([.. allowed.Values.Select(v => JsonValue.Create(v?.ToString()))]);
                }
                if (defaults.TryGetPropertyValue(context.PropertyInfo.Name, out var value))
                {
                    schema["default"] = value?.DeepClone();
                }
                return schema;
            },
        };
        var result = OptimizerJson.Strict.GetJsonSchemaAsNode(optionsType, exporter).AsObject();
        result["additionalProperties"] = false;
        result.Remove("required");
        return result;
    }
}
