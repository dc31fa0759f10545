using System.Text.Json;
using Optimizer.Domain.Common;
using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Methods.Merge.Shared;

/// <summary>One model of a merge with its per-model weight and the body field that named it (for error messages).</summary>
public sealed record MergeInput(SourceModel Source, double Weight, string Field);

/// <summary>The models of a merge job: <c>models[]</c> in request order and the optional <c>base_model_id</c>.</summary>
public sealed record MergeInputs(SourceModel? Base, IReadOnlyList<MergeInput> Models)
{
    /// <summary>
    /// Resolves the job's <c>models</c> (<c>[{model_id, weight}]</c>) and base to downloaded folders. A model listed
    /// twice is one download; the runner fetched them all already, so this normally finds each in the job's sources.
    /// </summary>
    public static async Task<MergeInputs> ResolveAsync(PipelineContext context, CancellationToken cancellationToken)
    {
        var models = new List<MergeInput>();
        if (context.Job.ModelsJson is { } json)
        {
            var entries = JsonSerializer.Deserialize<List<Entry>>(json, OptimizerJson.Options) ?? [];
            for (var i = 0; i < entries.Count; i++)
            {
                models.Add(new MergeInput(await FindAsync(context, entries[i].ModelId, cancellationToken), entries[i].Weight, $"models[{i}]"));
            }
        }
        var baseModel = context.Job.BaseModelId is { } baseId ? await FindAsync(context, baseId, cancellationToken) : null;
        return new MergeInputs(baseModel, models);
    }

    /// <summary>A source of the job when it is one, else a fetch (e.g. MWA checkpoints named in params).</summary>
    public static async Task<SourceModel> FindAsync(PipelineContext context, string modelId, CancellationToken cancellationToken) =>
        context.Sources.FirstOrDefault(s => s.Model.Id == modelId) ?? await context.Models.FetchAsync(modelId, cancellationToken);

    private sealed record Entry(string ModelId, double Weight = 1.0);
}
