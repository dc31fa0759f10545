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
        Add(datasets, "evaluation.dataset_id", job.Evaluation?.DatasetId);
        // Options records name their references by convention (*ModelId, *DatasetId), e.g. evaluate's baseline_model_id.
        foreach (var property in job.Options.GetType().GetProperties().Where(p => p.PropertyType == typeof(string)))
        {
            var field = "params." + System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
            if (property.Name.EndsWith("ModelId", StringComparison.Ordinal))
            {
                Add(models, field, (string?)property.GetValue(job.Options));
            }
            else if (property.Name.EndsWith("DatasetId", StringComparison.Ordinal))
            {
                Add(datasets, field, (string?)property.GetValue(job.Options));
            }
        }
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

    private static void Add(List<(string, string)> list, string field, string? id)
    {
        if (!string.IsNullOrEmpty(id))
        {
            list.Add((field, id));
        }
    }
}
