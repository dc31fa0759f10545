using Microsoft.Extensions.Caching.Memory;

namespace Optimizer.Api.Jobs;

/// <summary>
/// The widths read from each stored model's <c>config.json</c> (<see cref="ModelShape.ReadAsync"/>), kept in memory so the
/// preflight of a submission does not read a blob: a stored model's files never change and its id is never reused, so an
/// entry cannot go stale. Sizes still come from the model's row on every call.
/// </summary>
/// <remarks>
/// Only configs that were read are kept: a blob error reads as unknown widths (0), and the next submission tries again.
/// The cache is the process's own (not the shared <see cref="IMemoryCache"/>), so its size limit binds no one else.
/// </remarks>
public sealed class ModelShapeCache(IArtifactStore store) : IDisposable
{
    private const int MaxModels = 10_000;
    private static readonly MemoryCacheEntryOptions Entry = new() { Size = 1, SlidingExpiration = TimeSpan.FromHours(1) };
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = MaxModels });

    public async Task<ModelShape> GetAsync(string blobPrefix, long sizeBytes, long parameters, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue<ModelShape>(blobPrefix, out var cached) && cached is not null)
        {
            return cached with { SizeBytes = sizeBytes, Parameters = parameters };
        }
        var shape = await ModelShape.ReadAsync(store, blobPrefix, sizeBytes, parameters, cancellationToken);
        if (shape.HiddenSize > 0)
        {
            _cache.Set(blobPrefix, shape, Entry);
        }
        return shape;
    }

    public void Dispose() => _cache.Dispose();
}
