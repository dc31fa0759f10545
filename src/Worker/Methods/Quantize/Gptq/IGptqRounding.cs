using Optimizer.Kernels.Codecs;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Gptq;

/// <summary>The grid a GPTQ-calibrated method rounds each linear onto, and what it stores of the solution.</summary>
/// <typeparam name="TPacked">The stored form of one linear.</typeparam>
public interface IGptqRounding<TPacked>
{
    /// <summary>The quantizer for one linear's <paramref name="weight"/> <c>[out, in]</c> (a grid may depend on the whole weight).</summary>
    IColumnQuantizer QuantizerFor(Tensor weight);

    /// <summary>
    /// The stored form of <paramref name="solution"/> and the dense float32 weight it loads back as (written into the model
    /// so that later stages calibrate on what is stored). <paramref name="weight"/> is the linear's weight before rounding.
    /// </summary>
    (TPacked Packed, Tensor Stored) Pack(GptqSolution solution, Tensor weight, IColumnQuantizer quantizer);
}

/// <summary>The integer min/max grid, packed as a GPTQ checkpoint; what is stored is the solver's weight itself.</summary>
public sealed class IntGptqRounding(RtnSpec spec) : IGptqRounding<GptqLinear>
{
    private readonly IntColumnQuantizer _quantizer = new(spec);

    public IColumnQuantizer QuantizerFor(Tensor weight) => _quantizer;

    public (GptqLinear Packed, Tensor Stored) Pack(GptqSolution solution, Tensor weight, IColumnQuantizer quantizer) =>
        (GptqPacker.Pack(solution, spec), solution.Quantized);
}
