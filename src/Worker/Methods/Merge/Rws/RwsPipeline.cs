using System.Text.Json.Nodes;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Merge.Rws;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Merge.Shared;
using Optimizer.Worker.Methods.Quantize.Shared;

namespace Optimizer.Worker.Methods.Merge.Rws;

/// <summary>
/// RWS extract (signature = robust − clean on the chosen layers, stored in float32 as a model whose config carries
/// <c>rws_signature</c>) and apply (patch the clean model with λ-scaled signatures; compose several; λ = −1 removes).
/// </summary>
[JobPipeline("merge", "rws")]
public sealed class RwsPipeline : IJobPipeline<RwsOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, RwsOptions options, CancellationToken cancellationToken)
    {
        var inputs = await MergeInputs.ResolveAsync(context, cancellationToken);
        if (inputs.Base is null)
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams, "rws needs base_model_id: the clean model.");
        }
        return options.Mode == RwsOptions.ExtractMode
            ? await ExtractAsync(context, options, inputs, cancellationToken)
            : await ApplyAsync(context, options, inputs, cancellationToken);
    }

    private static async Task<PipelineResult> ExtractAsync(PipelineContext context, RwsOptions options, MergeInputs inputs, CancellationToken cancellationToken)
    {
        using var stream = MergeStream.Open(inputs);
        if (RwsSignature.IsSignature(stream.Folders[0]))
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams, "models[0] is a stored signature; extract takes the full robust model.");
        }
        var total = stream.Reference.TensorNames.Sum(n => stream.Reference.GetEntry(n).ElementCount);
        var result = await stream.WriteAsync(context, new MergeWriteSpec("rws", t => t.All[0] - t.BaseTensor)
        {
            Include = name => RwsSignature.Covers(options, name) && WeightBytes.IsFloat(stream.Reference.GetEntry(name).Dtype),
            OutputDtype = SafetensorsDtype.F32,
            EditConfig = config => config[RwsSignature.ConfigKey] = new JsonObject
            {
                ["clean_model_id"] = inputs.Base!.Model.Id,
                ["robust_model_id"] = inputs.Models[0].Source.Model.Id,
                ["layers"] = new JsonArray([.. options.Layers.Select(l => (JsonNode?)l)]),
                ["include_embeddings"] = options.IncludeEmbeddings,
                ["dtype"] = "float32",
            },
        }, cancellationToken);
        var output = result.Output! with { Name = $"{inputs.Models[0].Source.Model.Name}-rws-signature" };
        var metrics = new Dictionary<string, object?>(result.Metrics)
        {
            ["rws_mode"] = RwsOptions.ExtractMode,
            ["signature_parameters"] = output.ParameterCount,
            ["signature_fraction"] = total == 0 ? 0 : (double)output.ParameterCount / total,
        };
        return new PipelineResult(output, null, metrics);
    }

    private static async Task<PipelineResult> ApplyAsync(PipelineContext context, RwsOptions options, MergeInputs inputs, CancellationToken cancellationToken)
    {
        using var stream = MergeStream.Open(inputs, allowSubset: true);
        var signatures = stream.Folders.Select(RwsSignature.IsSignature).ToList();
        await context.Progress.EventAsync("info", "plan",
            $"Patching {inputs.Base!.Model.Id} with {inputs.Models.Count} signature(s), lambda {string.Join(", ", inputs.Models.Select(m => m.Weight))}.",
            null, cancellationToken);
        var result = await stream.WriteAsync(context, new MergeWriteSpec("rws",
            t => RwsSignature.Patch(t.BaseTensor, t.Inputs, t.Weights, signatures, RwsSignature.Covers(options, t.Name))), cancellationToken);
        var metrics = new Dictionary<string, object?>(result.Metrics)
        {
            ["rws_mode"] = RwsOptions.ApplyMode,
            ["lambdas"] = inputs.Models.Select(m => m.Weight).ToArray(),
        };
        return new PipelineResult(result.Output! with { Name = $"{inputs.Base.Model.Name}-rws" }, null, metrics);
    }
}
