namespace Optimizer.Infra.Tests.Kustomize;

/// <summary>The objects a kustomization renders to, and the example files read in place of missing env files.</summary>
internal sealed record Rendering(IReadOnlyList<JsonObject> Objects, IReadOnlyList<string> Substitutions)
{
    public IEnumerable<JsonObject> OfKind(string kind) => Objects.Where(o => Kustomization.Text(o["kind"]) == kind);

    public JsonObject? Find(string kind, string name) => OfKind(kind).FirstOrDefault(o => Name(o) == name);

    public static string Name(JsonObject item) => Kustomization.Text(item["metadata"]?["name"]) ?? "";

    public static string Key(JsonObject item) => $"{Kustomization.Text(item["kind"])}/{Name(item)}";

    /// <summary>The containers (and init containers) of a workload's pod template; none for other objects.</summary>
    public static IEnumerable<JsonObject> Containers(JsonObject item)
    {
        var pod = item["spec"]?["template"]?["spec"];
        return Kustomization.Items(pod?["containers"]).Concat(Kustomization.Items(pod?["initContainers"]));
    }

    /// <summary>The pod template's labels.</summary>
    public static IReadOnlyDictionary<string, string> PodLabels(JsonObject workload) =>
        Labels(workload["spec"]?["template"]?["metadata"]?["labels"]);

    public static IReadOnlyDictionary<string, string> Labels(JsonNode? node) =>
        node is JsonObject map ? map.ToDictionary(p => p.Key, p => Kustomization.Text(p.Value) ?? "") : [];
}
