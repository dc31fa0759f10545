using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune.Wanda;

/// <summary>
/// Wanda's layer-by-layer loop (ALGORITHMS.md 0.2, 2.2) on a loaded Llama model: feed the calibration windows through
/// block i, summing x_j² over every token for the input of each of its linears, score |W_ij|·‖X_j‖₂, prune per
/// output row (or N:M), then run the pruned block again so block i + 1 calibrates on what the pruned model computes.
/// </summary>
/// <remarks>Only one block's activations are alive besides the hidden states of the windows ([samples, T, hidden]).</remarks>
public static class WandaCalibrator
{
    private const int BatchSize = 8;

    /// <param name="model">Pruned in place.</param>
    /// <param name="windows">Token ids [samples, T].</param>
    /// <param name="specFor">Pattern and sparsity of a weight (Hugging Face name); null when it is not pruned.</param>
    /// <param name="onLayer">Called after each block with its index.</param>
    /// <param name="cancellationToken">Checked between blocks.</param>
    public static void Prune(LlamaForCausalLM model, Tensor windows, Func<string, PruneSpec?> specFor,
        Action<int> onLayer, CancellationToken cancellationToken)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (cos, sin) = model.Model.RotaryTables(windows.shape[1], windows.device);
        var hidden = new List<Tensor>();
        for (long start = 0; start < windows.shape[0]; start += BatchSize)
        {
            hidden.Add(model.Model.EmbedTokens.forward(windows.narrow(0, start, Math.Min(BatchSize, windows.shape[0] - start))));
        }
        for (var index = 0; index < model.Model.Layers.Count; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var layer = model.Model.Layers[index];
            var norms = SquaredInputNorms(layer, hidden, cos, sin);
            foreach (var (name, linear) in Linears(layer))
            {
                if (specFor($"model.layers.{index}.{name}.weight") is { } spec)
                {
                    PruneLinear(linear.weight!, norms[name], spec);
                }
            }
            for (var b = 0; b < hidden.Count; b++)
            {
                var next = layer.forward(hidden[b], cos, sin);
                hidden[b].Dispose();
                hidden[b] = next;
            }
            foreach (var norm in norms.Values)
            {
                norm.Dispose();
            }
            onLayer(index);
        }
    }

    /// <summary>Zeroes the lowest |W_ij|·‖X_j‖₂ of <paramref name="weight"/> in place: per output row, or N:M.</summary>
    /// <param name="weight">[out, in].</param>
    /// <param name="squaredNorms">Σ over calibration tokens of x_j², [in].</param>
    /// <param name="spec">Pattern and sparsity.</param>
    public static void PruneLinear(Tensor weight, Tensor squaredNorms, PruneSpec spec)
    {
        using var scope = torch.NewDisposeScope();
        var score = weight.abs() * squaredNorms.sqrt().unsqueeze(0);
        weight.masked_fill_(PruneMask.Select(score, spec, PruneScope.PerRow), 0);
    }

    /// <summary>One pass of the dense block, summing x² per input channel for each linear's input.</summary>
    private static Dictionary<string, Tensor> SquaredInputNorms(LlamaDecoderLayer layer, List<Tensor> hidden, Tensor cos, Tensor sin)
    {
        var norms = Linears(layer).ToDictionary(l => l.Name, l => torch.zeros(l.Linear.weight!.shape[1], ScalarType.Float32));
        foreach (var batch in hidden)
        {
            using var scope = torch.NewDisposeScope();
            var attentionInput = layer.InputLayernorm.forward(batch);
            Accumulate(norms, attentionInput, "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj");
            var attended = layer.SelfAttn.Attend(attentionInput, cos, sin);
            Accumulate(norms, attended, "self_attn.o_proj");
            var afterAttention = batch + layer.SelfAttn.OProj.forward(attended);
            var mlpInput = layer.PostAttentionLayernorm.forward(afterAttention);
            Accumulate(norms, mlpInput, "mlp.gate_proj", "mlp.up_proj");
            Accumulate(norms, layer.Mlp.Activate(mlpInput), "mlp.down_proj");
        }
        return norms;
    }

    private static void Accumulate(Dictionary<string, Tensor> norms, Tensor input, params string[] names)
    {
        using var squares = input.reshape(-1, input.shape[^1]).to(ScalarType.Float32).square().sum(0);
        foreach (var name in names)
        {
            norms[name].add_(squares);
        }
    }

    private static IEnumerable<(string Name, Linear Linear)> Linears(LlamaDecoderLayer layer) =>
    [
        ("self_attn.q_proj", layer.SelfAttn.QProj),
        ("self_attn.k_proj", layer.SelfAttn.KProj),
        ("self_attn.v_proj", layer.SelfAttn.VProj),
        ("self_attn.o_proj", layer.SelfAttn.OProj),
        ("mlp.gate_proj", layer.Mlp.GateProj),
        ("mlp.up_proj", layer.Mlp.UpProj),
        ("mlp.down_proj", layer.Mlp.DownProj),
    ];
}
