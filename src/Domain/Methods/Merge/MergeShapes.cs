namespace Optimizer.Domain.Methods.Merge;

/// <summary>The shape rule of every merge: the same tensor names with the same shapes (the Api and the Worker share it).</summary>
public static class MergeShapes
{
    /// <summary>
    /// The first tensor (in ordinal name order) whose presence or shape differs, in words; null when none does.
    /// With <paramref name="allowSubset"/>, <paramref name="other"/> may lack tensors (a stored RWS signature).
    /// </summary>
    public static string? FirstMismatch(IReadOnlyDictionary<string, long[]> reference, IReadOnlyDictionary<string, long[]> other, bool allowSubset)
    {
        foreach (var name in reference.Keys.Union(other.Keys).Order(StringComparer.Ordinal))
        {
            var inReference = reference.TryGetValue(name, out var expected);
            var inOther = other.TryGetValue(name, out var actual);
            if (!inReference)
            {
                return $"tensor '{name}' has no counterpart in the reference model.";
            }
            if (!inOther)
            {
                if (allowSubset)
                {
                    continue;
                }
                return $"tensor '{name}' is missing.";
            }
            if (!expected!.SequenceEqual(actual!))
            {
                return $"tensor '{name}' has shape [{string.Join(", ", actual!)}], expected [{string.Join(", ", expected!)}].";
            }
        }
        return null;
    }
}
