using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Gptq;

/// <summary>
/// The grid GPTQ rounds each column onto (ALGORITHMS.md 1.2 "quantizer"): integer min/max (<see cref="IntColumnQuantizer"/>),
/// or any other per-group grid such as FP4 E2M1 — <see cref="GptqSolver"/> only needs to fit and to round.
/// </summary>
public interface IColumnQuantizer
{
    /// <summary>Fits one grid per output row to <paramref name="weights"/> <c>[out, width]</c> (one group, or the whole matrix per-channel).</summary>
    /// <remarks>Implementers must not keep <paramref name="weights"/>; the returned grid owns its tensors (detached from dispose scopes).</remarks>
    IColumnGrid Fit(Tensor weights);
}

/// <summary>A fitted grid: rounds columns <c>[out]</c> of its group.</summary>
public interface IColumnGrid : IDisposable
{
    /// <summary>The dequantized value of each entry of <paramref name="column"/> <c>[out]</c> on this grid (a new tensor).</summary>
    Tensor Quantize(Tensor column);
}
