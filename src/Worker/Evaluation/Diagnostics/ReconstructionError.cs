using Optimizer.Worker.Calibration;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Evaluation.Diagnostics;

/// <summary>
/// Per-layer relative reconstruction error of a candidate against its baseline on calibration text (ALGORITHMS.md Part B,
/// diagnostics): each block, and each of its linears, is fed the <em>baseline's</em> input, so an error is the block's
/// own and not the sum of the errors upstream.
/// </summary>
/// <remarks>
/// A block's error is measured on its residual update: <c>‖F_c(h) − F_b(h)‖ / ‖F_b(h) − h‖</c>. Measured on the
/// block output it would be diluted by the residual stream <c>h</c>, which both models pass through unchanged.
/// A linear's error is <c>‖X W_cᵀ − X W_bᵀ‖ / ‖X W_bᵀ‖</c> on the baseline's input <c>X</c> of that linear.
/// </remarks>
public static class ReconstructionError
{
    /// <summary>Measures both models (same config) on <paramref name="windows"/> of token ids, one dispose scope per block.</summary>
    public static LayerErrors Measure(LlamaForCausalLM baseline, LlamaForCausalLM candidate, IReadOnlyList<long[]> windows,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        if (windows.Count == 0)
        {
            throw new ArgumentException("need at least one window", nameof(windows));
        }
        baseline.eval();
        candidate.eval();
        using var noGrad = torch.no_grad();
        using var outer = torch.NewDisposeScope();
        var device = baseline.parameters().First().device;
        var seqLen = windows[0].Length;
        var input = torch.tensor(windows.SelectMany(w => w).ToArray(), [windows.Count, seqLen], dtype: ScalarType.Int64).to(device);
        var (cos, sin) = baseline.Model.RotaryTables(seqLen, device);
        var hidden = baseline.Model.EmbedTokens.forward(input);
        var blocks = new List<double>();
        var modules = new List<IReadOnlyDictionary<string, double>>();
        for (var b = 0; b < baseline.Model.Layers.Count; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var baseBlock = baseline.Model.Layers[b];
            var candBlock = candidate.Model.Layers[b];
            var baseOut = baseBlock.forward(hidden, cos, sin);
            var candOut = candBlock.forward(hidden, cos, sin);
            blocks.Add(Relative(candOut - baseOut, baseOut - hidden));
            var inputs = BlockInputs.Compute(baseBlock, hidden, cos, sin, BlockInput.MlpHidden);
            var candidateLinears = BlockLinear.Of(candBlock).ToDictionary(l => l.Name, l => l.Module);
            var perModule = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var linear in BlockLinear.Of(baseBlock))
            {
                var x = inputs[linear.Input];
                var reference = linear.Module.forward(x);
                perModule[ShortName(linear.Name)] = Relative(candidateLinears[linear.Name].forward(x) - reference, reference);
            }
            modules.Add(perModule);
            hidden = baseOut.MoveToOuterDisposeScope();
        }
        return new LayerErrors(blocks, modules);
    }

    /// <summary><c>self_attn.q_proj</c> → <c>q_proj</c>: the module type the drill-down names.</summary>
    public static string ShortName(string blockLinearName) => blockLinearName[(blockLinearName.LastIndexOf('.') + 1)..];

    private static double Relative(Tensor difference, Tensor reference)
    {
        var denominator = reference.to(ScalarType.Float64).norm().item<double>();
        var numerator = difference.to(ScalarType.Float64).norm().item<double>();
        return denominator > 0 ? numerator / denominator : numerator > 0 ? double.PositiveInfinity : 0;
    }
}

/// <summary>Relative output errors per block and, per block, per module type (<c>q_proj</c>, ..., <c>down_proj</c>).</summary>
public sealed record LayerErrors(IReadOnlyList<double> Blocks, IReadOnlyList<IReadOnlyDictionary<string, double>> Modules);
