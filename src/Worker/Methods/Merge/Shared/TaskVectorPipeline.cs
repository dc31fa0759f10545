using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Methods.Merge.Shared;

/// <summary>Runs a member of the task-vector family through the streaming core (the four pipelines differ only in settings).</summary>
public static class TaskVectorPipeline
{
    public static async Task<PipelineResult> RunAsync(PipelineContext context, string method, TaskVectorSettings settings,
        CancellationToken cancellationToken)
    {
        var inputs = await MergeInputs.ResolveAsync(context, cancellationToken);
        if (inputs.Base is null)
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams, $"{method} needs base_model_id: task vectors are taken against it.");
        }
        using var stream = MergeStream.Open(inputs);
        await context.Progress.EventAsync("info", "plan",
            $"Merging {inputs.Models.Count} model(s) into {inputs.Base.Model.Id} with {method} (density {settings.Density:0.###}, lambda {settings.Lambda:0.###}).",
            null, cancellationToken);
        return await stream.WriteAsync(context, new MergeWriteSpec(method, t => TaskVectorMerge.Combine(t, settings))
        {
            Metrics = new Dictionary<string, object?>
            {
                ["density"] = settings.Density,
                ["lambda"] = settings.Lambda,
                ["normalize"] = settings.Normalize,
            },
        }, cancellationToken);
    }
}
