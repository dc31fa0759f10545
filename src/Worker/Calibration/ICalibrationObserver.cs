using Optimizer.Worker.Modeling.Architectures.Llama;
using static TorchSharp.torch;

namespace Optimizer.Worker.Calibration;

/// <summary>
/// A method plugged into <see cref="LayerwiseCalibrator"/>: it sees the inputs of each linear of a block, batch by
/// batch, then changes the block's weights.
/// </summary>
/// <remarks>
/// Implementers must not modify or keep the tensors passed to <see cref="Observe"/>: they belong to a per-batch dispose
/// scope. State that outlives a batch (Hessians, norms) must be detached from dispose scopes
/// (<c>DetachFromDisposeScope</c>, as <see cref="HessianAccumulator"/> does) and disposed by the observer.
/// </remarks>
public interface ICalibrationObserver
{
    /// <summary>One batch of inputs of <paramref name="linear"/>.</summary>
    /// <param name="block">The block being calibrated.</param>
    /// <param name="linear">A linear of the current stage.</param>
    /// <param name="input"><c>[tokens, in]</c> float32, computed by the block as modified so far.</param>
    /// <param name="fullPrecisionInput">The same tokens through the unmodified model (two-stream runs only), else null.</param>
    void Observe(CalibrationBlock block, BlockLinear linear, Tensor input, Tensor? fullPrecisionInput);

    /// <summary>Every batch of the stage was observed: change the weights of <paramref name="stage"/> (in place).</summary>
    void Update(CalibrationBlock block, IReadOnlyList<BlockLinear> stage);
}

/// <summary>The block under calibration and the hidden states entering it (one tensor <c>[B, T, hidden]</c> per batch).</summary>
/// <param name="Index">Block index.</param>
/// <param name="Layer">The block (its weights are the ones being modified).</param>
/// <param name="Inputs">Hidden states entering the block in the calibrated stream.</param>
/// <param name="FullPrecisionInputs">Hidden states of the unmodified model (two-stream runs only).</param>
/// <param name="Cos">Rotary table <c>[T, headDim]</c>.</param>
/// <param name="Sin">Rotary table <c>[T, headDim]</c>.</param>
public sealed record CalibrationBlock(
    int Index,
    LlamaDecoderLayer Layer,
    IReadOnlyList<Tensor> Inputs,
    IReadOnlyList<Tensor>? FullPrecisionInputs,
    Tensor Cos,
    Tensor Sin);
