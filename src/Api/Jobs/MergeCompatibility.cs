using Optimizer.Api.Contracts.Jobs;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Merge;
using Optimizer.Domain.Methods.Merge.Rws;
using Optimizer.Domain.Models;

namespace Optimizer.Api.Jobs;

/// <summary>
/// Refuses a merge whose models do not share architecture and tensor shapes, before anything is queued: reads only
/// the safetensors headers of each stored model (two small range reads per file) and names the first tensor that differs.
/// </summary>
/// <remarks>
/// The worker checks the same again on the downloaded files (<c>incompatible_models</c>), because a model row can
/// change between submission and run only by deletion, which the runner reports on its own.
/// </remarks>
public static class MergeCompatibility
{
    /// <summary>The first incompatibility in words, or null when the merge's models line up.</summary>
    public static async Task<string?> FindMismatchAsync(OptimizerDbContext db, IArtifactStore store, string tenantId,
        CreateJobRequest request, ValidatedJob job, CancellationToken cancellationToken)
    {
        if (job.Method.Type != "merge")
        {
            return null;
        }
        var inputs = new List<(string Field, string Id)>();
        if (!string.IsNullOrEmpty(request.BaseModelId))
        {
            inputs.Add(("base_model_id", request.BaseModelId));
        }
        inputs.AddRange((request.Models ?? []).Select((m, i) => ($"models[{i}]", m.ModelId!)));
        inputs.AddRange((job.Options as IModelReferences)?.ReferencedModels() ?? []);
        if (inputs.Count < 2)
        {
            return null;
        }
        var ids = inputs.Select(i => i.Id).Distinct().ToList();
        var rows = await db.Models.AsNoTracking().Include(m => m.Files)
            .Where(m => m.TenantId == tenantId && ids.Contains(m.Id))
            .ToDictionaryAsync(m => m.Id, cancellationToken);
        // RWS apply takes stored signatures: a subset of the clean model's tensors.
        var partial = job.Options is RwsOptions { Mode: RwsOptions.ApplyMode };
        var (refField, refId) = inputs[0];
        var reference = rows[refId];
        var refTensors = await ReadTensorsAsync(store, reference, cancellationToken);
        foreach (var (field, id) in inputs)
        {
            var model = rows[id];
            if (model.Quantization is not null)
            {
                return $"{field} ({id}) is quantized ({model.Quantization.Method}); merges combine dense weights. Merge the models before quantizing them.";
            }
            if (field == refField && id == refId)
            {
                continue;
            }
            if (!string.Equals(model.Architecture, reference.Architecture, StringComparison.Ordinal))
            {
                return $"{field} ({id}) is a {model.Architecture} but {refField} ({refId}) is a {reference.Architecture}; merged models must share their architecture.";
            }
            var tensors = await ReadTensorsAsync(store, model, cancellationToken);
            if (MergeShapes.FirstMismatch(refTensors, tensors, partial) is { } mismatch)
            {
                return $"{field} ({id}) does not match {refField} ({refId}): {mismatch}";
            }
        }
        return null;
    }

    private static async Task<Dictionary<string, long[]>> ReadTensorsAsync(IArtifactStore store, Model model, CancellationToken cancellationToken)
    {
        var tensors = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var file in model.Files.Where(f => f.Name.EndsWith(".safetensors", StringComparison.Ordinal)))
        {
            var path = model.BlobPrefix + file.Name;
            var prefix = await ReadRangeAsync(store, path, 0, 8, cancellationToken);
            var length = SafetensorsHeader.ReadHeaderLength(prefix, file.SizeBytes);
            var header = SafetensorsHeader.Parse(await ReadRangeAsync(store, path, 8, length, cancellationToken), null);
            foreach (var entry in header.Tensors)
            {
                tensors[entry.Name] = entry.Shape;
            }
        }
        return tensors;
    }

    private static async Task<byte[]> ReadRangeAsync(IArtifactStore store, string path, long offset, long length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        await using var stream = await store.OpenReadRangeAsync(path, offset, length, cancellationToken);
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }
}
