using Optimizer.Kernels.LowBit;

namespace Optimizer.Worker.Inference;

/// <summary>The <see cref="IKernelWeight"/> of each kernel matrix of src/Kernels/LowBit.</summary>
public static class KernelWeights
{
    public static IKernelWeight Int4(Int4Matrix matrix) =>
        new QuantizedDotWeight($"int4 {Group(matrix.Layout)}", matrix.Layout, matrix.OutFeatures, matrix.WeightBytes,
            Int8MaxCode, (x, y) => QuantizedMatMul.Int4(matrix, x, y));

    public static IKernelWeight Int8(Int8Matrix matrix) =>
        new QuantizedDotWeight($"int8 {Group(matrix.Layout)}", matrix.Layout, matrix.OutFeatures, matrix.WeightBytes,
            Int8MaxCode, (x, y) => QuantizedMatMul.Int8(matrix, x, y));

    public static IKernelWeight Fp4(Fp4Matrix matrix) =>
        new QuantizedDotWeight($"fp4 e2m1 {Group(matrix.Layout)}", matrix.Layout, matrix.OutFeatures, matrix.WeightBytes,
            Int8MaxCode, (x, y) => QuantizedMatMul.Fp4(matrix, x, y));

    public static IKernelWeight Ternary(TernaryMatrix matrix) =>
        new QuantizedDotWeight($"ternary {matrix.Planes}-plane {Group(matrix.Layout)}", matrix.Layout, matrix.OutFeatures,
            matrix.WeightBytes, QuantizedMatMul.TernaryMaxCode, (x, y) => QuantizedMatMul.Ternary(matrix, x, y));

    public static IKernelWeight Fp8(Fp8Matrix matrix) => new Fp8Weight(matrix);

    /// <summary>Activation code range of the integer-dot kernels (the full int8 range bar -128).</summary>
    private const int Int8MaxCode = 127;

    /// <summary>The group size the weight scales cover (the row length when per channel).</summary>
    private static string Group(BlockLayout layout) => $"g{layout.GroupSize}";

    private delegate void Product(QuantizedActivations x, Span<float> y);

    /// <summary>The integer-dot and lookup kernels: activations quantized to int8 per block first (into a reused buffer).</summary>
    private sealed class QuantizedDotWeight(string format, BlockLayout layout, int outFeatures, long weightBytes, int maxCode, Product product)
        : IKernelWeight
    {
        private readonly QuantizedActivations _activations = new();

        public string Format => format;
        public int InFeatures => layout.InFeatures;
        public int OutFeatures => outFeatures;
        public long WeightBytes => weightBytes;

        public void Multiply(ReadOnlySpan<float> x, int rows, Span<float> y)
        {
            _activations.Quantize(x, rows, layout, maxCode);
            product(_activations, y);
        }
    }

    /// <summary>The FP8 kernel takes the fp32 activations as they are.</summary>
    private sealed class Fp8Weight(Fp8Matrix matrix) : IKernelWeight
    {
        public string Format => "fp8 e4m3";
        public int InFeatures => matrix.InFeatures;
        public int OutFeatures => matrix.OutFeatures;
        public long WeightBytes => matrix.WeightBytes;

        public void Multiply(ReadOnlySpan<float> x, int rows, Span<float> y) => QuantizedMatMul.Fp8(matrix, x, rows, y);
    }
}
