using System.Text.Json;
using Optimizer.Domain.Jobs;

namespace Optimizer.Worker.Execution;

/// <summary>What a job reads.</summary>
public static class JobSources
{
    /// <summary>The job's input models: <c>model_id</c>, then merge inputs, then a merge base.</summary>
    public static IEnumerable<string> ModelIds(Job job)
    {
        var ids = new List<string>();
        if (job.ModelId is not null)
        {
            ids.Add(job.ModelId);
        }
        if (job.ModelsJson is not null)
        {
            using var doc = JsonDocument.Parse(job.ModelsJson);
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                if (item.TryGetProperty("model_id", out var id) && id.GetString() is { } modelId)
                {
                    ids.Add(modelId);
                }
            }
        }
        if (job.BaseModelId is not null)
        {
            ids.Add(job.BaseModelId);
        }
        return ids.Distinct();
    }
}
