using Optimizer.Kernels.Codecs;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Gptq;

/// <summary>Turns a <see cref="GptqSolution"/> on the integer grid into the GPTQ checkpoint tensors (with its <c>g_idx</c>).</summary>
public static class GptqPacker
{
    /// <exception cref="ArgumentException">The solution's grids are not <see cref="IntColumnQuantizer.Grid"/>s.</exception>
    public static GptqLinear Pack(GptqSolution solution, RtnSpec spec)
    {
        ArgumentNullException.ThrowIfNull(solution);
        using var scope = torch.NewDisposeScope();
        var grids = solution.Grids.Select(g => g as IntColumnQuantizer.Grid
            ?? throw new ArgumentException("GPTQ packing needs integer grids.", nameof(solution))).ToList();
        var rows = (int)solution.Quantized.shape[0];
        var columns = (int)solution.Quantized.shape[1];
        var scales = torch.stack(grids.Select(g => g.Scale), 1);
        var zeros = torch.stack(grids.Select(g => g.Zero), 1);
        var groupIndex = torch.tensor(solution.GroupIndex.Select(g => (long)g).ToArray());
        var columnScales = scales.index_select(1, groupIndex);
        var columnZeros = zeros.index_select(1, groupIndex);
        var codes = ((solution.Quantized / columnScales).round() + columnZeros).clamp(0, spec.MaxQ).to(ScalarType.Byte);
        return GptqLinear.Pack(
            codes.contiguous().data<byte>().ToArray(),
            scales.contiguous().data<float>().ToArray(),
            zeros.to(ScalarType.Int32).contiguous().data<int>().ToArray(),
            solution.GroupIndex, rows, columns, spec);
    }
}
