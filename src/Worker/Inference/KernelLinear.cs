using Optimizer.Worker.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Inference;

/// <summary>
/// A linear layer <c>y = x·Wᵀ (+ U·V·x) (+ b)</c> whose weight stays in its stored low-bit form and is multiplied by
/// src/Kernels (<see cref="IKernelWeight"/>): the worker's CPU inference path for quantized checkpoints.
/// </summary>
/// <remarks>
/// float32 CPU activations only. The batch and sequence dimensions are flattened to rows and fed to the kernel
/// <see cref="MaxRows"/> at a time (its batch limit; each call streams the weight once). A low-rank correction (FP4's LoRC)
/// and the bias run in TorchSharp. The kernel weight has no parameter, so nothing of it loads by name; only <c>bias</c> does.
/// </remarks>
public sealed class KernelLinear : nn.Module<Tensor, Tensor>
{
    /// <summary>Activation rows per kernel call: the kernels' batch limit.</summary>
    public const int MaxRows = 16;

    private readonly Tensor? _lowRankU;
    private readonly Tensor? _lowRankV;

    /// <param name="weight">The kernel weight.</param>
    /// <param name="hasBias">Adds a zero <c>bias [out]</c> parameter (loaded from the checkpoint by name).</param>
    /// <param name="lowRank">Optional <c>U [out, r]</c> and <c>V [r, in]</c> (row-major) added to the weight.</param>
    public KernelLinear(IKernelWeight weight, bool hasBias = false, (float[] U, float[] V, int Rank)? lowRank = null)
        : base(nameof(KernelLinear))
    {
        ArgumentNullException.ThrowIfNull(weight);
        Weight = weight;
        if (hasBias)
        {
            Bias = new Parameter(torch.zeros(weight.OutFeatures, dtype: ScalarType.Float32), requires_grad: false);
            register_parameter("bias", Bias);
        }
        if (lowRank is { Rank: > 0 } factors)
        {
            _lowRankU = torch.tensor(factors.U, [weight.OutFeatures, factors.Rank], ScalarType.Float32);
            _lowRankV = torch.tensor(factors.V, [factors.Rank, weight.InFeatures], ScalarType.Float32);
        }
    }

    public IKernelWeight Weight { get; }

    public Parameter? Bias { get; }

    /// <param name="input"><c>[..., in]</c> float32 on the CPU.</param>
    /// <returns><c>[..., out]</c> float32.</returns>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (inFeatures, outFeatures) = (Weight.InFeatures, Weight.OutFeatures);
        if (input.shape.Length == 0 || input.shape[^1] != inFeatures)
        {
            throw new ArgumentException($"KernelLinear needs [..., {inFeatures}], got [{string.Join(", ", input.shape)}].", nameof(input));
        }
        if (input.device_type != DeviceType.CPU)
        {
            throw new ArgumentException("KernelLinear runs on the CPU only (src/Kernels).", nameof(input));
        }
        using var scope = torch.NewDisposeScope();
        var rows = (int)(input.numel() / inFeatures);
        var flat = input.to(ScalarType.Float32).reshape(rows, inFeatures).contiguous();
        var output = torch.empty(rows, outFeatures, dtype: ScalarType.Float32);
        Multiply(flat, output, rows);
        var result = output;
        if (_lowRankU is not null)
        {
            result = result + nn.functional.linear(nn.functional.linear(flat, _lowRankV!), _lowRankU);
        }
        if (Bias is not null)
        {
            result = result + Bias;
        }
        long[] shape = [.. input.shape[..^1], outFeatures];
        return result.reshape(shape).MoveToOuterDisposeScope();
    }

    private unsafe void Multiply(Tensor flat, Tensor output, int rows)
    {
        var (inFeatures, outFeatures) = (Weight.InFeatures, Weight.OutFeatures);
        var x = new ReadOnlySpan<float>((void*)TensorMemory.DataPointer(flat), rows * inFeatures);
        var y = new Span<float>((void*)TensorMemory.DataPointer(output), rows * outFeatures);
        for (var start = 0; start < rows; start += MaxRows)
        {
            var n = Math.Min(MaxRows, rows - start);
            Weight.Multiply(x.Slice(start * inFeatures, n * inFeatures), n, y.Slice(start * outFeatures, n * outFeatures));
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lowRankU?.Dispose();
            _lowRankV?.Dispose();
        }
        base.Dispose(disposing);
    }
}
