using Optimizer.Api.Contracts.Jobs;
using Optimizer.Domain.Models;

namespace Optimizer.Api.Jobs;

/// <summary>
/// Checks that every model and dataset a valid job body names exists for the caller's tenant (datasets may
/// also be built-in). Unknown references make the body semantically invalid: 422, not 404, because the
/// request URL itself exists.
/// </summary>
public static class JobReferenceChecker
{
    public static async Task<IReadOnlyList<string>> FindMissingAsync(
        OptimizerDbContext db, string tenantId, CreateJobRequest request, ValidatedJob job, CancellationToken cancellationToken)
    {
        var models = new List<(string Field, string Id)>();
        var datasets = new List<(string Field, string Id)>();
        Add(models, "model_id", request.ModelId);
        Add(models, "base_model_id", request.BaseModelId);
        for (var i = 0; i < (request.Models?.Count ?? 0); i++)
        {
            Add(models, $"models[{i}].model_id", request.Models![i].ModelId);
        }
        foreach (var (field, id) in (job.Options as Domain.Methods.Merge.IModelReferences)?.ReferencedModels() ?? [])
        {
            Add(models, field, id);
        }
        Add(datasets, "calibration_dataset_id", request.CalibrationDatasetId);
        if (job.Evaluation is not null)
        {
            AddByConvention(models, datasets, "evaluation.", job.Evaluation);
        }
        AddByConvention(models, datasets, "params.", job.Options);
        var modelIds = models.Select(m => m.Id).Distinct().ToList();
        var datasetIds = datasets.Select(d => d.Id).Distinct().ToList();
        var foundModels = await db.Models.AsNoTracking()
            .Where(m => m.TenantId == tenantId && m.Status == ModelStatus.Ready && modelIds.Contains(m.Id))
            .Select(m => m.Id).ToListAsync(cancellationToken);
        var foundDatasets = await db.Datasets.AsNoTracking()
            .Where(d => (d.TenantId == tenantId || d.TenantId == null) && datasetIds.Contains(d.Id))
            .Select(d => d.Id).ToListAsync(cancellationToken);
        return
        [
            .. models.Where(m => !foundModels.Contains(m.Id)).Select(m => $"{m.Field}: no ready model '{m.Id}' exists."),
            .. datasets.Where(d => !foundDatasets.Contains(d.Id)).Select(d => $"{d.Field}: no dataset '{d.Id}' exists."),
        ];
    }

    /// <summary>
    /// Options records name their references by convention: <c>*ModelId</c> / <c>*DatasetId</c> strings and
    /// <c>*ModelIds</c> / <c>*DatasetIds</c> lists, e.g. evaluate's baseline_model_id, judge_model_id and task_dataset_ids.
    /// </summary>
    private static void AddByConvention(List<(string, string)> models, List<(string, string)> datasets, string prefix, object options)
    {
        foreach (var property in options.GetType().GetProperties())
        {
            var field = prefix + System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
            var target = property.Name.EndsWith("ModelId", StringComparison.Ordinal) || property.Name.EndsWith("ModelIds", StringComparison.Ordinal)
                ? models
                : property.Name.EndsWith("DatasetId", StringComparison.Ordinal) || property.Name.EndsWith("DatasetIds", StringComparison.Ordinal)
                    ? datasets
                    : null;
            switch (target is null ? null : property.GetValue(options))
            {
                case string id:
                    Add(target!, field, id);
                    break;
                case IEnumerable<string> ids:
                    foreach (var (id, i) in ids.Select((id, i) => (id, i)))
                    {
                        Add(target!, $"{field}[{i}]", id);
                    }
                    break;
            }
        }
    }

    private static void Add(List<(string, string)> list, string field, string? id)
    {
        if (!string.IsNullOrEmpty(id))
        {
            list.Add((field, id));
        }
    }
}
