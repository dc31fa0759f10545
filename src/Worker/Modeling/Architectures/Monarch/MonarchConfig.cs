using System.Text.Json.Nodes;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp.Modules;

namespace Optimizer.Worker.Modeling.Architectures.Monarch;

/// <summary>
/// <c>config.json</c> <c>monarch_config</c> (docs/formats/monarch.md): which linears a checkpoint stores as Monarch
/// factors, e.g. <c>{"nblocks": 4, "modules": ["model.layers.0.mlp.up_proj", …]}</c>.
/// </summary>
public sealed record MonarchConfig(int Blocks, IReadOnlyList<string> Modules)
{
    public const string Key = "monarch_config";

    /// <summary>The config's Monarch section, or null when it has none.</summary>
    /// <exception cref="InvalidDataException">The section is malformed.</exception>
    public static MonarchConfig? From(HfConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Raw[Key] is not JsonObject section)
        {
            return null;
        }
        try
        {
            var blocks = section["nblocks"]!.GetValue<int>();
            var modules = section["modules"]!.AsArray().Select(m => m!.GetValue<string>()).ToList();
            return new MonarchConfig(blocks, modules);
        }
        catch (Exception ex) when (ex is InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new InvalidDataException($"config.json {Key} must be {{\"nblocks\": int, \"modules\": [string]}}: {ex.Message}", ex);
        }
    }

    public JsonObject ToJson() => new()
    {
        ["nblocks"] = Blocks,
        ["modules"] = new JsonArray([.. Modules.Select(m => (JsonNode?)JsonValue.Create(m))]),
    };

    /// <summary>Swaps each listed projection of <paramref name="model"/> for a <see cref="MonarchLinear"/> of the same shape (weights not loaded yet).</summary>
    /// <exception cref="InvalidDataException">A module name is not a decoder projection of the model.</exception>
    public void Apply(LlamaForCausalLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var module in Modules)
        {
            Linear dense;
            try
            {
                dense = LlamaProjections.Dense(model, module);
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"{Key}: {ex.Message}", ex);
            }
            LlamaProjections.Use(model, module, new MonarchLinear(dense.weight!.shape[1], dense.weight.shape[0], Blocks));
        }
    }
}
