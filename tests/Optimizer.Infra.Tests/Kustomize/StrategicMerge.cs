namespace Optimizer.Infra.Tests.Kustomize;

/// <summary>
/// The part of Kubernetes' strategic merge patch these manifests use: maps merge key by key, lists of named objects
/// (containers, env, ports, volumes) merge by <c>name</c>, other lists and scalars are replaced.
/// </summary>
internal static class StrategicMerge
{
    public static void Apply(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (key.StartsWith("$patch", StringComparison.Ordinal))
            {
                continue;
            }
            switch (target[key], value)
            {
                case (JsonObject existing, JsonObject change):
                    Apply(existing, change);
                    break;
                case (JsonArray existing, JsonArray change) when IsNamedList(existing) && IsNamedList(change):
                    MergeByName(existing, change);
                    break;
                default:
                    target[key] = value?.DeepClone();
                    break;
            }
        }
    }

    private static bool IsNamedList(JsonArray list) => list.All(item => item is JsonObject map && map["name"] is JsonValue);

    private static void MergeByName(JsonArray target, JsonArray patch)
    {
        foreach (var change in patch.Cast<JsonObject>())
        {
            var name = change["name"]!.GetValue<string>();
            if (target.Cast<JsonObject>().FirstOrDefault(item => item["name"]!.GetValue<string>() == name) is { } existing)
            {
                Apply(existing, change);
            }
            else
            {
                target.Add(change.DeepClone());
            }
        }
    }
}
