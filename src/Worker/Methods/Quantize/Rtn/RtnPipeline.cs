using System.Text.Json.Nodes;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Domain.Models;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Rtn;

/// <summary>
/// Round-to-nearest weight-only quantization (ALGORITHMS.md 1.1) written as a GPTQ checkpoint
/// (docs/formats/gptq-packing.md). Streams tensor by tensor; the model is never built.
/// </summary>
[JobPipeline("quantize", "rtn")]
public sealed class RtnPipeline : IJobPipeline<RtnOptions>
{
    public async Task<PipelineResult> RunAsync(PipelineContext context, RtnOptions options, CancellationToken cancellationToken)
    {
        var source = context.Source;
        var spec = new RtnSpec(options.Bits, options.GroupSize, options.Symmetric);
        using var folder = ModelFiles.OpenSource(source.LocalDir);
        if (folder.Config.QuantizationConfig is not null)
        {
            throw new JobFailedException(JobErrorCodes.InvalidModel, "The model is already quantized; RTN needs floating-point weights.");
        }
        var plan = RtnPlan.For(folder, spec);
        if (plan.Targets.Count == 0)
        {
            throw new JobFailedException(JobErrorCodes.InvalidParams,
                $"No decoder linear fits {options.Bits} bits with group size {options.GroupSize}; nothing to quantize.");
        }
        if (plan.Skipped.Count > 0)
        {
            await context.Progress.EventAsync("warning", "plan",
                $"{plan.Skipped.Count} layer(s) kept unquantized: their shape does not fit the grid.", new { layers = plan.Skipped }, cancellationToken);
        }
        await context.Progress.EventAsync("info", "plan",
            $"Quantizing {plan.Targets.Count} linear layers to {options.Bits} bits, group size {options.GroupSize}.", null, cancellationToken);

        var writer = new SafetensorsWriter();
        writer.Metadata["quantized_by"] = "optimizer/rtn";
        var layers = new RtnLayerSource(folder, spec, (done, name) =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Called from the writer's thread (below); the reporter is safe to block on there.
            context.Progress.ReportAsync("quantize", 0.05 + 0.85 * done / plan.Targets.Count, name, cancellationToken)
                .GetAwaiter().GetResult();
        });
        foreach (var name in plan.Kept)
        {
            var entry = folder.GetEntry(name);
            writer.Add(name, entry.Dtype, entry.Shape, () => folder.ReadTensor(name));
        }
        foreach (var target in plan.Targets)
        {
            // Biases are ordinary tensors and already in plan.Kept.
            layers.AddTo(writer, target);
        }
        var modelPath = Path.Combine(context.OutputDir, ModelFolder.SingleFileName);
        await Task.Run(() => writer.Save(modelPath), cancellationToken);

        ModelFiles.WriteConfig(folder, context.OutputDir, config => config["quantization_config"] = new JsonObject
        {
            ["quant_method"] = "gptq",
            ["bits"] = options.Bits,
            ["group_size"] = options.GroupSize,
            ["desc_act"] = false,
            ["sym"] = options.Symmetric,
            ["checkpoint_format"] = "gptq",
        });
        ModelFiles.CopySideFiles(source.LocalDir, context.OutputDir);
        await context.Progress.ReportAsync("quantize", 0.9, "Written", cancellationToken);

        var parameters = folder.TensorNames.Sum(n => folder.GetEntry(n).ElementCount);
        var architecture = folder.Config.Architectures.FirstOrDefault() ?? source.Model.Architecture;
        var info = new OutputModelInfo(
            $"{source.Model.Name}-rtn-w{options.Bits}g{options.GroupSize}",
            architecture,
            parameters,
            string.IsNullOrEmpty(source.Model.Dtype) ? folder.Config.TorchDtype ?? "float16" : source.Model.Dtype,
            new QuantizationInfo("rtn", options.Bits, options.GroupSize, "gptq"));
        return PipelineResult.ForModel(info, new Dictionary<string, object?>
        {
            ["quantized_layers"] = plan.Targets.Count,
            ["skipped_layers"] = plan.Skipped.Count,
        });
    }
}
