using YamlDotNet.RepresentationModel;

namespace Optimizer.Infra.Tests.Kustomize;

/// <summary>YAML documents as <see cref="JsonNode"/> trees (every scalar a string), which are easy to walk and compare.</summary>
internal static class Yaml
{
    /// <summary>Every non-empty document of the file; a syntax error fails with the file name and position.</summary>
    public static IReadOnlyList<JsonObject> LoadDocuments(string path)
    {
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
        var documents = new List<JsonObject>();
        foreach (var document in stream.Documents)
        {
            switch (ToJson(document.RootNode))
            {
                case JsonObject map:
                    documents.Add(map);
                    break;
                case null:
                    break;
                default:
                    throw new InvalidDataException($"{path}: a document is not a mapping.");
            }
        }
        return documents;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(pair =>
            KeyValuePair.Create(((YamlScalarNode)pair.Key).Value ?? "", ToJson(pair.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(ToJson)]),
        // A bare "~"/"null"/empty value is null; anything else keeps its text (quoted "1" and bare 1 alike).
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" } => null,
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => throw new InvalidDataException($"Unsupported YAML node {node.NodeType} at {node.Start}."),
    };
}
