using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Calibration;

/// <summary>
/// The layer-by-layer calibration loop (ALGORITHMS.md 0.2) on a loaded Llama model: embed the calibration windows,
/// then for each block feed the hidden states through it, hand each linear's inputs to an
/// <see cref="ICalibrationObserver"/>, let it modify the block's weights (stage by stage with true-sequential), and
/// recompute the block's output as the next block's input. With a checkpoint in the settings, each finished block is saved
/// and a later attempt resumes after the last saved one (<see cref="BlockCheckpoint"/>).
/// </summary>
/// <remarks>
/// Peak memory is the model plus the hidden states of the windows (<c>[samples, T, hidden]</c>, twice with two
/// streams), one block's activations for one batch, and — with two streams — one float copy of the current block.
/// </remarks>
public static class LayerwiseCalibrator
{
    /// <param name="model">Modified in place by <paramref name="observer"/>.</param>
    /// <param name="windows">Token ids <c>[samples, T]</c>.</param>
    /// <param name="settings">Stages, streams and propagation.</param>
    /// <param name="observer">The method.</param>
    /// <param name="onBlock">Called after each block with its index.</param>
    /// <param name="cancellationToken">Checked between blocks and stages.</param>
    public static void Run(LlamaForCausalLM model, Tensor windows, CalibrationSettings settings, ICalibrationObserver observer,
        Action<int> onBlock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.BatchSize);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (cos, sin) = model.Model.RotaryTables(windows.shape[1], windows.device);
        var hidden = new List<Tensor>();
        for (long start = 0; start < windows.shape[0]; start += settings.BatchSize)
        {
            hidden.Add(model.Model.EmbedTokens.forward(windows.narrow(0, start, Math.Min(settings.BatchSize, windows.shape[0] - start))));
        }
        var fullPrecision = settings.TwoStreams ? hidden.Select(h => h.clone()).ToList() : null;
        var streams = new Streams(hidden, fullPrecision, cos, sin);
        var resuming = settings.Checkpoint is not null;
        for (var index = 0; index < model.Model.Layers.Count; index++)
        {
            var layer = model.Model.Layers[index];
            cancellationToken.ThrowIfCancellationRequested();
            using (var saved = resuming ? BlockCheckpoint.TryOpen(settings.Checkpoint!, index, cancellationToken) : null)
            {
                if (saved is not null)
                {
                    Resume(saved, index, layer, streams, settings.Propagation, observer);
                    onBlock(index);
                    continue;
                }
            }
            // Blocks are saved in order: after the first one missing, none further can be there.
            resuming = false;
            using var original = settings.TwoStreams ? CopyOf(layer, model.Config) : null;
            var block = new CalibrationBlock(index, layer, hidden, fullPrecision, cos, sin);
            var unmodifiedOutputs = settings.Propagation == Propagation.FullPrecision ? Forward(layer, hidden, cos, sin) : null;
            foreach (var stage in BlockLinear.Stages(layer, settings.TrueSequential))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (settings.CaptureInputs)
                {
                    Capture(block, original, stage, observer);
                }
                observer.Update(block, stage);
            }
            Replace(hidden, unmodifiedOutputs ?? Forward(layer, hidden, cos, sin));
            if (fullPrecision is not null)
            {
                Replace(fullPrecision, Forward(original!, fullPrecision, cos, sin));
            }
            if (settings.Checkpoint is { } checkpoint)
            {
                BlockCheckpoint.Save(checkpoint, index, layer, observer, cancellationToken);
            }
            onBlock(index);
        }
    }

    /// <summary>
    /// A block an earlier attempt finished: its saved weights and results are restored, and the streams move past it with
    /// the forward passes the uninterrupted run made — the unmodified block for the full-precision stream (and for the
    /// calibrated one under <see cref="Propagation.FullPrecision"/>), computed before the saved weights go in.
    /// </summary>
    private static void Resume(SafetensorsFile saved, int index, LlamaDecoderLayer layer, Streams streams, Propagation propagation,
        ICalibrationObserver observer)
    {
        var nextFullPrecision = streams.FullPrecision is null ? null : Forward(layer, streams.FullPrecision, streams.Cos, streams.Sin);
        var unmodifiedOutputs = propagation == Propagation.FullPrecision ? Forward(layer, streams.Hidden, streams.Cos, streams.Sin) : null;
        BlockCheckpoint.Restore(saved, index, layer, observer);
        Replace(streams.Hidden, unmodifiedOutputs ?? Forward(layer, streams.Hidden, streams.Cos, streams.Sin));
        if (nextFullPrecision is not null)
        {
            Replace(streams.FullPrecision!, nextFullPrecision);
        }
    }

    /// <summary>The hidden states entering the current block (calibrated stream, full-precision stream) and the rotary tables.</summary>
    private sealed record Streams(List<Tensor> Hidden, List<Tensor>? FullPrecision, Tensor Cos, Tensor Sin);

    /// <summary>One pass over the batches, computing only the inputs the stage reads.</summary>
    private static void Capture(CalibrationBlock block, LlamaDecoderLayer? original, IReadOnlyList<BlockLinear> stage, ICalibrationObserver observer)
    {
        var last = stage.Max(l => l.Input);
        for (var b = 0; b < block.Inputs.Count; b++)
        {
            using var batchScope = torch.NewDisposeScope();
            var inputs = BlockInputs.Compute(block.Layer, block.Inputs[b], block.Cos, block.Sin, last);
            var fullPrecision = original is null || block.FullPrecisionInputs is null
                ? null
                : BlockInputs.Compute(original, block.FullPrecisionInputs[b], block.Cos, block.Sin, last);
            foreach (var linear in stage)
            {
                var input = Flatten(inputs[linear.Input]);
                var fullPrecisionInput = fullPrecision is null ? null : Flatten(fullPrecision[linear.Input]);
                observer.Observe(block, linear, input, fullPrecisionInput);
            }
        }
    }

    private static Tensor Flatten(Tensor input) => input.reshape(-1, input.shape[^1]).to(ScalarType.Float32);

    private static List<Tensor> Forward(LlamaDecoderLayer layer, IReadOnlyList<Tensor> hidden, Tensor cos, Tensor sin) =>
        hidden.Select(h => layer.forward(h, cos, sin)).ToList();

    private static void Replace(List<Tensor> hidden, List<Tensor> next)
    {
        for (var b = 0; b < hidden.Count; b++)
        {
            hidden[b].Dispose();
            hidden[b] = next[b];
        }
    }

    /// <summary>A detached copy of <paramref name="layer"/>'s weights as they are now (the full-precision stream's block).</summary>
    private static LlamaDecoderLayer CopyOf(LlamaDecoderLayer layer, LlamaConfig config)
    {
        var copy = new LlamaDecoderLayer(config);
        var source = layer.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        foreach (var (name, parameter) in copy.named_parameters())
        {
            parameter.copy_(source[name]);
        }
        copy.to(source.Values.First().device);
        return copy;
    }
}
