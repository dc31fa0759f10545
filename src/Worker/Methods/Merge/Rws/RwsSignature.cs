using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Optimizer.Domain.Methods.Merge.Rws;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Merge.Rws;

/// <summary>
/// Robust Weight Signatures (ALGORITHMS.md 3.7): which tensors a signature covers, how one is recognised, and the
/// patch arithmetic <c>θ = θ_clean + Σ_c λ_c·RWS_c</c>.
/// </summary>
public static partial class RwsSignature
{
    /// <summary>The config.json key that marks a model folder as a stored signature.</summary>
    public const string ConfigKey = "rws_signature";

    /// <summary>True for tensors in the chosen decoder layers, and the token embedding when asked.</summary>
    public static bool Covers(RwsOptions options, string tensorName)
    {
        if (options.IncludeEmbeddings && tensorName.EndsWith("embed_tokens.weight", StringComparison.Ordinal))
        {
            return true;
        }
        var match = LayerIndex().Match(tensorName);
        return match.Success && options.Layers.Contains(int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture));
    }

    /// <summary>True when the folder is a stored signature (its config carries <see cref="ConfigKey"/>).</summary>
    public static bool IsSignature(ModelFolder folder) => folder.Config.Raw[ConfigKey] is JsonObject;

    /// <summary>
    /// Patches one tensor: <c>clean + Σ λ_i·δ_i</c> in float64 (so that λ = 1 reproduces the robust weights and +1 then
    /// −1 cancels to the last bit the source dtype holds), where δ_i is the stored signature tensor, or
    /// <c>x_i − clean</c> for a full robust model on covered tensors; inputs without the tensor add nothing.
    /// </summary>
    public static Tensor Patch(Tensor clean, IReadOnlyList<Tensor?> inputs, IReadOnlyList<double> lambdas, IReadOnlyList<bool> isSignature, bool covered)
    {
        using var scope = torch.NewDisposeScope();
        var cleanWide = clean.to_type(ScalarType.Float64);
        var result = cleanWide.clone();
        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is not { } input || (!isSignature[i] && !covered))
            {
                continue;
            }
            var wide = input.to_type(ScalarType.Float64);
            var delta = isSignature[i] ? wide : wide - cleanWide;
            result.add_(delta, alpha: lambdas[i]);
        }
        return result.MoveToOuterDisposeScope();
    }

    [GeneratedRegex(@"\.layers\.(\d+)\.")]
    private static partial Regex LayerIndex();
}
