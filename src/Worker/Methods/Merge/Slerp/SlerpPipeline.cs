using System.Text.RegularExpressions;
using Optimizer.Domain.Methods.Merge.Slerp;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Merge.Shared;

namespace Optimizer.Worker.Methods.Merge.Slerp;

/// <summary>SLERP of two models (ALGORITHMS.md 3.2), streamed tensor by tensor; t may follow a per-layer gradient.</summary>
[JobPipeline("merge", "slerp")]
public sealed partial class SlerpPipeline : IJobPipeline<SlerpOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, SlerpOptions options, CancellationToken cancellationToken)
    {
        var inputs = await MergeInputs.ResolveAsync(context, cancellationToken);
        if (inputs.Models.Count != 2)
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams, "slerp takes exactly two models.");
        }
        using var stream = MergeStream.Open(inputs);
        var layers = stream.Reference.Config.NumHiddenLayers ?? 0;
        return await stream.WriteAsync(context, new MergeWriteSpec("slerp",
            t => SlerpMath.Interpolate(TFor(options, t.Name, layers), t.All[0], t.All[1]))
        {
            Metrics = new Dictionary<string, object?> { ["t"] = options.T },
        }, cancellationToken);
    }

    /// <summary>
    /// The t of one tensor: <see cref="SlerpOptions.T"/>, or inside decoder layer i of L the gradient sampled at
    /// i / (L − 1), interpolating linearly between its evenly spread values (mergekit's gradient reading).
    /// </summary>
    public static double TFor(SlerpOptions options, string tensorName, int layers)
    {
        if (options.TGradient is not { Count: > 0 } gradient)
        {
            return options.T;
        }
        var match = LayerIndex().Match(tensorName);
        if (!match.Success || layers <= 0)
        {
            return options.T;
        }
        if (gradient.Count == 1)
        {
            return gradient[0];
        }
        var position = layers == 1 ? 0 : Math.Clamp(int.Parse(match.Groups[1].ValueSpan, provider: System.Globalization.CultureInfo.InvariantCulture) / (double)(layers - 1), 0, 1);
        var scaled = position * (gradient.Count - 1);
        var low = (int)Math.Floor(scaled);
        var high = Math.Min(gradient.Count - 1, low + 1);
        var fraction = scaled - low;
        return (1 - fraction) * gradient[low] + fraction * gradient[high];
    }

    [GeneratedRegex(@"\.layers\.(\d+)\.")]
    private static partial Regex LayerIndex();
}
