using Optimizer.Infra.Tests.Kustomize;

namespace Optimizer.Infra.Tests.Support;

/// <summary>A rendered Deployment and what its container gets: the environment resolved from ConfigMaps and Secrets.</summary>
internal sealed record Workload(JsonObject Deployment, JsonObject Container, IReadOnlyDictionary<string, string> Environment)
{
    public string Name => Rendering.Name(Deployment);

    /// <summary><c>app.kubernetes.io/component</c>: api, worker-cpu, worker-gpu (empty for the local PostgreSQL/Azurite).</summary>
    public string Component => Rendering.PodLabels(Deployment).GetValueOrDefault("app.kubernetes.io/component", "");

    public bool IsOptimizer => Rendering.PodLabels(Deployment).GetValueOrDefault("app.kubernetes.io/name") == "optimizer";

    public bool IsWorker => IsOptimizer && Component.StartsWith("worker", StringComparison.Ordinal);

    public JsonNode? PodSpec => Deployment["spec"]?["template"]?["spec"];

    public int Replicas => int.Parse(Kustomization.Text(Deployment["spec"]?["replicas"]) ?? "1");

    /// <summary>The optimizer Deployments of a rendering, one container each, with their resolved environment.</summary>
    public static IReadOnlyList<Workload> All(Rendering rendering) =>
    [
        .. rendering.OfKind("Deployment").SelectMany(d => Rendering.Containers(d).Select(c => new Workload(d, c, Resolve(rendering, c)))),
    ];

    /// <summary>envFrom sources first, then env entries (which win, as in Kubernetes); a missing source or key fails.</summary>
    private static Dictionary<string, string> Resolve(Rendering rendering, JsonObject container)
    {
        var environment = new Dictionary<string, string>();
        foreach (var source in Kustomization.Items(container["envFrom"]))
        {
            var (kind, reference) = source["configMapRef"] is { } map ? ("ConfigMap", map) : ("Secret", source["secretRef"]!);
            foreach (var (key, value) in Data(rendering, kind, Kustomization.Text(reference["name"])!))
            {
                environment[key] = value;
            }
        }
        foreach (var entry in Kustomization.Items(container["env"]))
        {
            var name = Kustomization.Text(entry["name"])!;
            if (entry["valueFrom"] is JsonObject from)
            {
                var (kind, reference) = from["configMapKeyRef"] is { } map ? ("ConfigMap", map) : ("Secret", from["secretKeyRef"]!);
                var key = Kustomization.Text(reference["key"])!;
                var data = Data(rendering, kind, Kustomization.Text(reference["name"])!);
                environment[name] = data.TryGetValue(key, out var value)
                    ? value
                    : throw new InvalidDataException($"{kind} {reference["name"]} has no key {key} (env {name})");
            }
            else
            {
                environment[name] = Kustomization.Text(entry["value"]) ?? "";
            }
        }
        return environment;
    }

    private static Dictionary<string, string> Data(Rendering rendering, string kind, string name)
    {
        var item = rendering.Find(kind, name) ?? throw new InvalidDataException($"{kind} {name} is referenced but not rendered");
        var data = new Dictionary<string, string>();
        foreach (var field in new[] { "data", "stringData" })
        {
            foreach (var (key, value) in item[field] as JsonObject ?? [])
            {
                data[key] = Kustomization.Text(value) ?? "";
            }
        }
        return data;
    }
}
