namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>
/// Computes a linear's quantized form once, hands its parts to the safetensors writer one tensor at a time, and drops
/// it after the last part is written.
/// </summary>
/// <remarks>
/// The writer orders tensors by element size, not by layer, so a layer's parts are asked for at different times; only
/// layers with parts still pending stay in memory.
/// </remarks>
internal sealed class LayerParts<T>(Func<LinearTarget, T> compute, int partsPerLayer, Action<int, string> onQuantized)
    where T : class
{
    private readonly Dictionary<string, (T Value, int Remaining)> _cache = new(StringComparer.Ordinal);
    private int _done;

    /// <summary>The quantized form of <paramref name="target"/>, computed on the first of its <c>partsPerLayer</c> calls.</summary>
    public T Take(LinearTarget target)
    {
        if (!_cache.TryGetValue(target.Prefix, out var entry))
        {
            entry = (compute(target), partsPerLayer);
            _done++;
            onQuantized(_done, target.WeightName);
        }
        if (entry.Remaining <= 1)
        {
            _cache.Remove(target.Prefix);
        }
        else
        {
            _cache[target.Prefix] = (entry.Value, entry.Remaining - 1);
        }
        return entry.Value;
    }
}
