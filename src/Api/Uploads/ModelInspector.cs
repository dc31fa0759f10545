using System.Text.Json;
using Optimizer.Api.Errors;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Models;

namespace Optimizer.Api.Uploads;

/// <summary>What an upload's config.json and safetensors headers say about the model; throws 400 problems when they disagree.</summary>
public static class ModelInspector
{
    /// <summary>Parses config.json: a JSON object whose <c>architectures</c> names a supported architecture.</summary>
    public static (string Architecture, string? TorchDtype) ReadConfig(byte[] json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw ApiProblemException.BadRequest($"config.json is not valid JSON: {ex.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw ApiProblemException.BadRequest("config.json must be a JSON object.");
            }
            if (!root.TryGetProperty("architectures", out var list) || list.ValueKind != JsonValueKind.Array
                || list.GetArrayLength() == 0 || list[0].ValueKind != JsonValueKind.String)
            {
                throw ApiProblemException.BadRequest("config.json has no 'architectures' list of strings.");
            }
            var architecture = list[0].GetString()!;
            if (!SupportedArchitectures.IsSupported(architecture))
            {
                throw ApiProblemException.BadRequest(
                    $"config.json names the unsupported architecture '{architecture}'; supported: {string.Join(", ", SupportedArchitectures.All)}.");
            }
            var dtype = root.TryGetProperty("torch_dtype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            return (architecture, dtype);
        }
    }

    /// <summary>Checks <c>model.safetensors.index.json</c>: its weight_map may name only uploaded shards that hold the tensor.</summary>
    public static void CheckIndex(byte[] json, IReadOnlyDictionary<string, SafetensorsHeader> shards)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw ApiProblemException.BadRequest("model.safetensors.index.json has no 'weight_map' object.");
            }
            foreach (var entry in map.EnumerateObject())
            {
                var shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : "";
                if (!shards.TryGetValue(shard, out var header))
                {
                    throw ApiProblemException.BadRequest(
                        $"model.safetensors.index.json maps '{entry.Name}' to '{shard}', which is not among the uploaded files.");
                }
                if (!header.Tensors.Any(t => t.Name == entry.Name))
                {
                    throw ApiProblemException.BadRequest($"model.safetensors.index.json maps '{entry.Name}' to '{shard}', which has no such tensor.");
                }
            }
        }
        catch (JsonException ex)
        {
            throw ApiProblemException.BadRequest($"model.safetensors.index.json is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>Sum of element counts over all shards.</summary>
    public static long ParameterCount(IEnumerable<SafetensorsHeader> shards) =>
        shards.SelectMany(s => s.Tensors).Sum(t => t.ElementCount);

    /// <summary>The dtype holding most elements, in torch spelling (<c>float16</c>), else config's torch_dtype.</summary>
    public static string Dtype(IEnumerable<SafetensorsHeader> shards, string? torchDtype)
    {
        var top = shards.SelectMany(s => s.Tensors)
            .GroupBy(t => t.Dtype)
            .Select(g => (Dtype: g.Key, Elements: g.Sum(t => t.ElementCount)))
            .OrderByDescending(g => g.Elements)
            .FirstOrDefault();
        return top.Elements > 0 ? TorchName(top.Dtype) : torchDtype ?? "unknown";
    }

    private static string TorchName(SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F64 => "float64",
        SafetensorsDtype.F32 => "float32",
        SafetensorsDtype.F16 => "float16",
        SafetensorsDtype.BF16 => "bfloat16",
        SafetensorsDtype.I64 => "int64",
        SafetensorsDtype.I32 => "int32",
        SafetensorsDtype.I16 => "int16",
        SafetensorsDtype.I8 => "int8",
        SafetensorsDtype.U8 => "uint8",
        SafetensorsDtype.BOOL => "bool",
        SafetensorsDtype.F8_E4M3 => "float8_e4m3fn",
        SafetensorsDtype.F8_E5M2 => "float8_e5m2",
        _ => dtype.ToString().ToLowerInvariant(),
    };
}
