using System.Text.Json.Nodes;
using Optimizer.Domain.Models;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>
/// The parts every weight-only quantizer shares around its own tensors, on top of <see cref="ModelFiles"/>:
/// opening a floating-point source, writing <c>config.json</c> with a <c>quantization_config</c>, and describing the output.
/// </summary>
public static class QuantizedCheckpoint
{
    /// <summary>Opens the source folder; a model that cannot be read or is already quantized fails the job as invalid_model.</summary>
    public static ModelFolder OpenFloatSource(string dir, string method)
    {
        var folder = ModelFiles.OpenSource(dir);
        if (folder.Config.QuantizationConfig is not null)
        {
            folder.Dispose();
            throw new JobFailedException(JobErrorCodes.InvalidModel, $"The model is already quantized; {method} needs floating-point weights.");
        }
        return folder;
    }

    /// <summary>
    /// The opening every weight-only quantizer shares: opens the floating-point source of <paramref name="context"/> and plans
    /// its linears with <see cref="PlanAsync"/>. The caller disposes the result (it owns the folder).
    /// </summary>
    public static async Task<OpenedSource> OpenAsync(PipelineContext context, string method, Func<int, int, bool>? fits, string grid,
        CancellationToken cancellationToken, Func<LinearPlan, string>? announce = null)
    {
        var folder = OpenFloatSource(context.Source.LocalDir, method);
        try
        {
            return new OpenedSource(folder, await PlanAsync(context, folder, fits, grid, cancellationToken, announce));
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The linears a quantizer replaces (<paramref name="fits"/> null: every shape fits): fails the job when there is none
    /// (<paramref name="grid"/> says what does not fit), warns about the ones kept unquantized, and announces the plan
    /// (<paramref name="announce"/>, default "Quantizing N linear layers to <paramref name="grid"/>.").
    /// </summary>
    public static async Task<LinearPlan> PlanAsync(PipelineContext context, ModelFolder folder, Func<int, int, bool>? fits, string grid,
        CancellationToken cancellationToken, Func<LinearPlan, string>? announce = null)
    {
        var plan = LinearPlan.For(folder, fits ?? ((_, _) => true));
        if (plan.Targets.Count == 0)
        {
            throw fits is null
                ? new JobFailedException(JobErrorCodes.InvalidModel, "The model has no decoder linear layer to quantize.")
                : new JobFailedException(JobErrorCodes.InvalidParams, $"No decoder linear fits {grid}; nothing to quantize.");
        }
        if (plan.Skipped.Count > 0)
        {
            await context.Progress.EventAsync("warning", "plan",
                $"{plan.Skipped.Count} layer(s) kept unquantized: their shape does not fit {grid}.", new { layers = plan.Skipped }, cancellationToken);
        }
        await context.Progress.EventAsync("info", "plan",
            announce?.Invoke(plan) ?? $"Quantizing {plan.Targets.Count} linear layers to {grid}.", null, cancellationToken);
        return plan;
    }

    /// <summary>Writes the source's config.json with <paramref name="quantizationConfig"/> added.</summary>
    public static void WriteConfig(ModelFolder folder, string outputDir, JsonObject quantizationConfig) =>
        ModelFiles.WriteConfig(folder, outputDir, config => config["quantization_config"] = quantizationConfig);

    /// <summary>The output model record: the source's parameter count, architecture and dtype, with the quantization.</summary>
    public static OutputModelInfo Describe(ModelFolder folder, SourceModel source, string nameSuffix, QuantizationInfo quantization)
    {
        var parameters = folder.TensorNames.Sum(n => folder.GetEntry(n).ElementCount);
        var architecture = folder.Config.Architectures.FirstOrDefault() ?? source.Model.Architecture;
        return new OutputModelInfo(
            $"{source.Model.Name}-{nameSuffix}",
            architecture,
            parameters,
            string.IsNullOrEmpty(source.Model.Dtype) ? folder.Config.TorchDtype ?? "float16" : source.Model.Dtype,
            quantization);
    }

    /// <summary>Reports progress from the safetensors writer's thread, where blocking on the reporter is safe.</summary>
    public static Action<int, string> ProgressCallback(PipelineContext context, int total, CancellationToken cancellationToken) =>
        (done, name) =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            context.Progress.ReportAsync("quantize", 0.05 + 0.85 * done / total, name, cancellationToken)
                .GetAwaiter().GetResult();
        };
}
