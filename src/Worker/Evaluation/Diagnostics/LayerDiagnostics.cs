using Optimizer.Worker.Calibration;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Spectral;

namespace Optimizer.Worker.Evaluation.Diagnostics;

/// <summary>
/// The per-layer diagnostics of a report: reconstruction error against the baseline (<see cref="ReconstructionError"/>)
/// and the FARMS ESD alpha of every linear (<see cref="EsdAlpha"/>, the estimator FARMS pruning allocates with).
/// </summary>
/// <param name="Errors">Per-block and per-module relative output errors; null without a baseline of the same shape.</param>
/// <param name="EsdAlpha">FARMS alpha per linear weight of the candidate (NaN-free: unusable fits are left out).</param>
/// <param name="BaselineEsdAlpha">The same for the baseline, or null.</param>
public sealed record LayerDiagnostics(
    LayerErrors? Errors,
    IReadOnlyDictionary<string, double>? EsdAlpha,
    IReadOnlyDictionary<string, double>? BaselineEsdAlpha)
{
    /// <summary>Calibration windows the reconstruction error runs on: enough to be stable, few enough to stay cheap.</summary>
    public const int Windows = 4;

    /// <summary>Alpha of each block linear of a Llama model folder; null when a weight cannot be read (e.g. factored layers).</summary>
    public static IReadOnlyDictionary<string, double>? Alphas(ModelFolder folder, LlamaForCausalLM model, CancellationToken cancellationToken)
    {
        var names = model.Model.Layers
            .SelectMany((layer, b) => BlockLinear.Of(layer).Select(l => l.WeightName(b)))
            .ToList();
        if (!names.All(folder.HasWeight))
        {
            return null;
        }
        var fits = Spectral.EsdAlpha.ForWeights(folder, names, cancellationToken: cancellationToken);
        return fits.Where(f => double.IsFinite(f.Value.Alpha)).ToDictionary(f => f.Key, f => f.Value.Alpha, StringComparer.Ordinal);
    }
}
