using System.Text.RegularExpressions;

namespace Optimizer.Api.Uploads;

/// <summary>The file names a model upload may contain: the Hugging Face layout, nothing else.</summary>
public static partial class ModelFileNames
{
    public const string Config = "config.json";
    public const string Index = "model.safetensors.index.json";

    private static readonly HashSet<string> s_known = new(StringComparer.Ordinal)
    {
        Config, "generation_config.json", Index, "tokenizer.json", "tokenizer.model", "tokenizer_config.json",
        "special_tokens_map.json", "vocab.json", "merges.txt", "vocab.txt", "added_tokens.json",
    };

    /// <summary>Null when <paramref name="name"/> is acceptable, else why not.</summary>
    public static string? Check(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "a file part has no file name";
        }
        if (name.Contains('/') || name.Contains('\\') || name.Contains(".."))
        {
            return $"file name '{name}' contains a path separator or '..'";
        }
        if (!SafeName().IsMatch(name))
        {
            return $"file name '{name}' has characters outside [A-Za-z0-9._-]";
        }
        return s_known.Contains(name) || IsSafetensors(name)
            ? null
            : $"file name '{name}' is not part of the Hugging Face layout (allowed: {string.Join(", ", s_known)}, *.safetensors)";
    }

    public static bool IsSafetensors(string name) => name.EndsWith(".safetensors", StringComparison.Ordinal) && name.Length > 12;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")]
    private static partial Regex SafeName();
}
