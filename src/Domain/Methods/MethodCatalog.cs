using System.Reflection;

namespace Optimizer.Domain.Methods;

/// <summary>Every method the service offers, discovered from <see cref="MethodAttribute"/>s in this assembly.</summary>
public static class MethodCatalog
{
    public static readonly IReadOnlyList<string> JobTypes = ["quantize", "prune", "merge", "finetune", "evaluate"];

    private static readonly Lazy<IReadOnlyList<MethodDescriptor>> s_all = new(Discover);

    public static IReadOnlyList<MethodDescriptor> All => s_all.Value;

    public static MethodDescriptor? Find(string? type, string? method) =>
        All.FirstOrDefault(m => m.Type == type && m.Method == method);

    private static IReadOnlyList<MethodDescriptor> Discover()
    {
        var found = new List<MethodDescriptor>();
        foreach (var type in typeof(MethodCatalog).Assembly.GetTypes())
        {
            var attribute = type.GetCustomAttribute<MethodAttribute>();
            if (attribute is null)
            {
                continue;
            }
            if (!JobTypes.Contains(attribute.Type))
            {
                throw new InvalidOperationException($"{type.Name}: unknown job type '{attribute.Type}'.");
            }
            if (attribute.Name != attribute.Name.ToLowerInvariant())
            {
                throw new InvalidOperationException($"{type.Name}: method names are lowercase ('{attribute.Name}').");
            }
            if (type.GetConstructor(Type.EmptyTypes) is null)
            {
                throw new InvalidOperationException($"{type.Name}: options need a parameterless constructor.");
            }
            found.Add(new MethodDescriptor(attribute.Type, attribute.Name, attribute.Description,
                attribute.ReferenceUrl, attribute.Queue, type));
        }
        var duplicate = found.GroupBy(m => m.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Method {duplicate.Key} is declared more than once.");
        }
        return [.. found.OrderBy(m => JobTypes.ToList().IndexOf(m.Type)).ThenBy(m => m.Method)];
    }
}
