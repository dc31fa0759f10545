namespace Optimizer.Infra.Tests.Kustomize;

/// <summary>
/// Renders a kustomization folder the way <c>kubectl apply -k</c> does, for the features these manifests use:
/// <c>resources</c> (files and folders), <c>configMapGenerator</c>/<c>secretGenerator</c> (<c>literals</c>, <c>envs</c>),
/// <c>patches</c> (strategic merge files, <c>$patch: delete</c>), <c>images</c> and <c>namespace</c>.
/// </summary>
/// <remarks>
/// Stricter than kustomize where a mistake would otherwise pass silently: an unknown field, a missing file, a patch
/// whose target does not exist, an <c>images</c> entry that matches no container, or two objects with one name fail.
/// Generated names carry no hash suffix (kustomize's suffix and its reference rewriting change nothing checked here).
/// </remarks>
internal static class Kustomization
{
    private static readonly HashSet<string> s_supportedFields =
        ["apiVersion", "kind", "namespace", "resources", "images", "secretGenerator", "configMapGenerator", "patches"];

    private static readonly HashSet<string> s_clusterScopedKinds = ["Namespace", "ClusterRole", "ClusterRoleBinding"];

    /// <summary>Renders <paramref name="folder"/>; a missing generator env file is read from <c>{file}.example</c> instead.</summary>
    public static Rendering Render(string folder)
    {
        var substitutions = new List<string>();
        var objects = Render(Path.GetFullPath(folder), substitutions);
        return new Rendering(objects, substitutions);
    }

    private static List<JsonObject> Render(string folder, List<string> substitutions)
    {
        var file = Path.Combine(folder, "kustomization.yaml");
        Require(File.Exists(file), $"{folder} has no kustomization.yaml");
        var spec = Yaml.LoadDocuments(file).Single();
        var unknown = spec.Select(p => p.Key).Where(k => !s_supportedFields.Contains(k)).ToList();
        Require(unknown.Count == 0, $"{file}: unsupported fields {string.Join(", ", unknown)}");
        Require(Text(spec["kind"]) == "Kustomization", $"{file}: kind is not Kustomization");

        var objects = new List<JsonObject>();
        foreach (var resource in Strings(spec["resources"]))
        {
            var path = Path.GetFullPath(Path.Combine(folder, resource));
            if (Directory.Exists(path))
            {
                objects.AddRange(Render(path, substitutions));
            }
            else
            {
                Require(File.Exists(path), $"{file}: resource {resource} does not exist");
                objects.AddRange(Yaml.LoadDocuments(path));
            }
        }
        objects.AddRange(Generate(spec["configMapGenerator"], "ConfigMap", folder, substitutions));
        objects.AddRange(Generate(spec["secretGenerator"], "Secret", folder, substitutions));
        foreach (var patch in Items(spec["patches"]))
        {
            var path = Text(patch["path"]) ?? throw new InvalidDataException($"{file}: only file patches (path:) are supported");
            Require(File.Exists(Path.Combine(folder, path)), $"{file}: patch {path} does not exist");
            foreach (var document in Yaml.LoadDocuments(Path.Combine(folder, path)))
            {
                ApplyPatch(objects, document, $"{file}: patch {path}");
            }
        }
        foreach (var image in Items(spec["images"]))
        {
            var replaced = Images.Replace(objects, Text(image["name"])!, Text(image["newName"]), Text(image["newTag"]));
            Require(replaced > 0, $"{file}: images entry {Text(image["name"])} matches no container");
        }
        if (Text(spec["namespace"]) is { } ns)
        {
            foreach (var item in objects.Where(o => !s_clusterScopedKinds.Contains(Text(o["kind"]) ?? "")))
            {
                ((JsonObject)item["metadata"]!)["namespace"] = ns;
            }
        }
        var duplicates = objects.GroupBy(Rendering.Key).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Require(duplicates.Count == 0, $"{file}: duplicate objects {string.Join(", ", duplicates)}");
        return objects;
    }

    private static IEnumerable<JsonObject> Generate(JsonNode? generators, string kind, string folder, List<string> substitutions)
    {
        foreach (var generator in Items(generators))
        {
            var data = new JsonObject();
            foreach (var literal in Strings(generator["literals"]))
            {
                AddEntry(data, literal, $"{kind} {Text(generator["name"])} literal");
            }
            foreach (var env in Strings(generator["envs"]))
            {
                var path = Path.Combine(folder, env);
                if (!File.Exists(path) && File.Exists(path + ".example"))
                {
                    substitutions.Add(Path.GetRelativePath(folder, path + ".example"));
                    path += ".example";
                }
                Require(File.Exists(path), $"{folder}: generator env file {env} does not exist");
                foreach (var line in File.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
                {
                    AddEntry(data, line, path);
                }
            }
            yield return new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = kind,
                ["metadata"] = new JsonObject { ["name"] = Text(generator["name"]) },
                ["data"] = data,
            };
        }
    }

    private static void AddEntry(JsonObject data, string entry, string where)
    {
        var equals = entry.IndexOf('=');
        Require(equals > 0, $"{where}: '{entry}' is not KEY=VALUE");
        Require(!data.ContainsKey(entry[..equals]), $"{where}: {entry[..equals]} is defined twice");
        data[entry[..equals]] = entry[(equals + 1)..];
    }

    private static void ApplyPatch(List<JsonObject> objects, JsonObject patch, string where)
    {
        var key = Rendering.Key(patch);
        var target = objects.FirstOrDefault(o => Rendering.Key(o) == key)
            ?? throw new InvalidDataException($"{where} targets {key}, which is not among the resources");
        if (Text(patch["$patch"]) == "delete")
        {
            objects.Remove(target);
            return;
        }
        StrategicMerge.Apply(target, patch);
    }

    internal static string? Text(JsonNode? node) => node is JsonValue value ? value.GetValue<string>() : null;

    internal static IEnumerable<string> Strings(JsonNode? node) => node is JsonArray list ? list.Select(Text).OfType<string>() : [];

    internal static IEnumerable<JsonObject> Items(JsonNode? node) => node is JsonArray list ? list.OfType<JsonObject>() : [];

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidDataException(message);
        }
    }
}
