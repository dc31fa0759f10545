using System.Text.Json;
using System.Text.Json.Nodes;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Jobs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods;

/// <summary>Reading a source folder and writing an output folder: the helpers every weight-rewriting pipeline shares.</summary>
public static class ModelFiles
{
    /// <summary>Opens the source folder; an unreadable model is the user's failure (<c>invalid_model</c>).</summary>
    public static ModelFolder OpenSource(string dir)
    {
        try
        {
            return ModelFolder.Open(dir);
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or SafetensorsFormatException or JsonException)
        {
            throw new JobFailedException(JobErrorCodes.InvalidModel, $"The source model cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// A 2-D floating-point <c>*.weight</c> inside the transformer blocks — <c>*.layers.N.*</c> (Llama-family
    /// decoders) or <c>encoder.layer.N.*</c> (BERT encoders): the attention and MLP projections. Embeddings, norms
    /// (1-D), the BERT pooler and <c>lm_head</c> are never candidates.
    /// </summary>
    public static bool IsDecoderLinear(string name, TensorEntry entry) =>
        name.EndsWith(".weight", StringComparison.Ordinal)
        && (name.Contains(".layers.", StringComparison.Ordinal) || name.StartsWith("encoder.layer.", StringComparison.Ordinal)
            || name.Contains(".encoder.layer.", StringComparison.Ordinal))
        && entry.Shape.Length == 2
        && WeightBytes.IsFloat(entry.Dtype);

    /// <summary>Writes the source's config.json, changed by <paramref name="edit"/>, into <paramref name="outputDir"/>.</summary>
    public static void WriteConfig(ModelFolder folder, string outputDir, Action<JsonObject>? edit = null)
    {
        var config = (JsonObject)folder.Config.Raw.DeepClone();
        edit?.Invoke(config);
        File.WriteAllText(Path.Combine(outputDir, ModelFolder.ConfigFileName),
            config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Tokenizer and generation files travel with the model; weights, their index and the config do not.</summary>
    public static void CopySideFiles(string sourceDir, string outputDir)
    {
        foreach (var file in Directory.GetFiles(sourceDir))
        {
            var name = Path.GetFileName(file);
            if (name == ModelFolder.ConfigFileName || name == ModelFolder.IndexFileName
                || name.EndsWith(".safetensors", StringComparison.Ordinal) || name.EndsWith(".partial", StringComparison.Ordinal))
            {
                continue;
            }
            File.Copy(file, Path.Combine(outputDir, name), overwrite: true);
        }
    }
}
