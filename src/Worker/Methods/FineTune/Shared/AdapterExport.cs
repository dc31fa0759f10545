using System.Text.Json;
using System.Text.Json.Nodes;
using Optimizer.Domain.Methods.FineTune;
using Optimizer.Worker.Modeling;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.FineTune.Shared;

/// <summary>
/// Writes a fine-tune: the PEFT layout (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c>, keys
/// <c>base_model.model.{module}.{lora_A.weight|lora_B.weight|miss_block}</c>) and/or the merged model in Hugging Face
/// layout (float32), with the source's tokenizer files.
/// </summary>
public static class AdapterExport
{
    public const string AdapterConfigFileName = "adapter_config.json";
    public const string AdapterWeightsFileName = "adapter_model.safetensors";
    /// <summary>PEFT prefixes every key with the wrapper's path (<c>PeftModelForCausalLM.base_model.model</c>).</summary>
    public const string PeftKeyPrefix = "base_model.model.";

    /// <summary>Writes what <paramref name="output"/> asks for into <paramref name="outputDir"/>.</summary>
    public static void Write(AdaptedModel model, IAdapterFactory factory, FineTuneOptions options, ModelFolder source,
        string baseModelName, string outputDir, string output)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        Directory.CreateDirectory(outputDir);
        if (output is FineTuneOptions.AdapterOutput or FineTuneOptions.BothOutputs)
        {
            WriteAdapter(model, factory, options, baseModelName, outputDir);
        }
        if (output is FineTuneOptions.MergedOutput or FineTuneOptions.BothOutputs)
        {
            WriteMerged(model, source, outputDir);
        }
        ModelFiles.CopySideFiles(source.Path, outputDir);
    }

    /// <summary>The PEFT adapter files.</summary>
    public static void WriteAdapter(AdaptedModel model, IAdapterFactory factory, FineTuneOptions options, string baseModelName, string outputDir)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(options);
        var config = new JsonObject
        {
            ["peft_type"] = factory.PeftType,
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModelName,
            ["target_modules"] = new JsonArray([.. options.TargetModules.Select(m => JsonValue.Create(m))]),
            ["inference_mode"] = true,
            ["bias"] = "none",
        };
        factory.DescribePeft(config);
        File.WriteAllText(Path.Combine(outputDir, AdapterConfigFileName), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var tensors = model.Adapters
            .SelectMany(a => a.Adapter.PeftTensors().Select(t => (Name: PeftKeyPrefix + a.Path + "." + t.Name, t.Value)))
            .ToList();
        try
        {
            var writer = new SafetensorsWriter();
            foreach (var (name, value) in tensors)
            {
                writer.Add(name, value);
            }
            writer.Save(Path.Combine(outputDir, AdapterWeightsFileName));
        }
        finally
        {
            tensors.ForEach(t => t.Value.Dispose());
        }
    }

    /// <summary>config.json (source's, float32) and model.safetensors with every adapter folded in.</summary>
    public static void WriteMerged(AdaptedModel model, ModelFolder source, string outputDir)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelFiles.WriteConfig(source, outputDir, config => config["torch_dtype"] = "float32");
        var weights = model.MergedWeights().ToList();
        try
        {
            var writer = new SafetensorsWriter();
            foreach (var (name, value) in weights)
            {
                writer.Add(name, value);
            }
            writer.Save(Path.Combine(outputDir, ModelFolder.SingleFileName));
        }
        finally
        {
            weights.ForEach(w => w.Value.Dispose());
        }
    }

    /// <summary>Reads <c>adapter_model.safetensors</c> back (tests, and loading an adapter onto a base).</summary>
    public static Dictionary<string, Tensor> ReadAdapter(string dir)
    {
        using var file = SafetensorsFile.Open(Path.Combine(dir, AdapterWeightsFileName));
        return file.Tensors.ToDictionary(t => t.Name, t => file.ReadTensor(t.Name), StringComparer.Ordinal);
    }
}
