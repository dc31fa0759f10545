namespace Optimizer.Worker.Inference;

/// <summary>A stored low-bit weight <c>W [out, in]</c> that src/Kernels multiplies without dequantizing it.</summary>
/// <remarks>
/// Implementers must keep <see cref="Multiply"/> free of allocation after the first call (the activation buffers are reused),
/// which makes an instance unsafe to call from two threads at once — a model's forward pass calls it from one.
/// </remarks>
public interface IKernelWeight
{
    /// <summary>The kernel and its layout, e.g. <c>int4 g128</c> (evidence in reports and the latency bench).</summary>
    string Format { get; }

    int InFeatures { get; }

    int OutFeatures { get; }

    /// <summary>Bytes the kernel streams per product (codes and scales).</summary>
    long WeightBytes { get; }

    /// <summary><c>y [rows, out] = x [rows, in] · Wᵀ</c> for 1 to <see cref="KernelLinear.MaxRows"/> rows.</summary>
    void Multiply(ReadOnlySpan<float> x, int rows, Span<float> y);
}
