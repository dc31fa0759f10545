using Optimizer.Kernels.Codecs;
using Optimizer.Kernels.LowBit;

namespace Optimizer.Kernels.Tests.LowBit;

/// <summary>Random weights and activations with fixed seeds, and the fp32 reference product they are checked against.</summary>
internal static class LowBitCases
{
    public static float[] Gaussian(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var k = 0; k < values.Length; k++)
        {
            // Box–Muller: weights and activations of real layers are bell-shaped, and a few large values exercise the scales.
            var u = 1.0 - random.NextDouble();
            values[k] = scale * (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        return values;
    }

    /// <summary>An int4 matrix from RTN codes of a Gaussian weight, optionally with a shuffled (act-order) g_idx.</summary>
    public static Int4Matrix Int4(int outFeatures, int inFeatures, int groupSize, int seed, bool actOrder = false)
    {
        var weight = Gaussian(outFeatures * inFeatures, seed, 0.05f);
        var spec = new RtnSpec(4, groupSize == inFeatures ? -1 : groupSize, Symmetric: false);
        var groups = spec.GroupCount(inFeatures);
        var codes = new byte[weight.Length];
        var scales = new float[outFeatures * groups];
        var zeros = new int[outFeatures * groups];
        RtnQuantizer.Quantize(weight, outFeatures, inFeatures, spec, codes, scales, zeros);
        int[]? gIdx = null;
        if (actOrder)
        {
            gIdx = Enumerable.Range(0, inFeatures).Select(i => i / spec.EffectiveGroupSize(inFeatures)).ToArray();
            new Random(seed + 1).Shuffle(gIdx);
        }
        return Int4Matrix.Pack(codes, scales, zeros, gIdx, outFeatures, inFeatures, spec.GroupSize);
    }

    /// <summary><c>x · Wᵀ</c> in double from fp32 weights <c>[out, in]</c>, with <c>Σ |w·x|</c> for a relative tolerance.</summary>
    public static (double[] Y, double[] Magnitude) Reference(float[] weight, float[] x, int batch, int outFeatures, int inFeatures)
    {
        var y = new double[batch * outFeatures];
        var magnitude = new double[y.Length];
        for (var n = 0; n < batch; n++)
        {
            for (var o = 0; o < outFeatures; o++)
            {
                for (var i = 0; i < inFeatures; i++)
                {
                    var term = (double)weight[o * inFeatures + i] * x[n * inFeatures + i];
                    y[n * outFeatures + o] += term;
                    magnitude[n * outFeatures + o] += Math.Abs(term);
                }
            }
        }
        return (y, magnitude);
    }

    /// <summary>
    /// The bound activation quantization allows: <c>Σ_i |w_i| · sx(i) / 2</c> per output, with sx the absmax/127 scale of
    /// input i's block (in stored order), plus fp32 rounding of the sums.
    /// </summary>
    public static double[] ActivationBound(float[] weight, float[] x, int batch, int outFeatures, BlockLayout layout, int maxCode = 127)
    {
        var inFeatures = layout.InFeatures;
        var bound = new double[batch * outFeatures];
        for (var n = 0; n < batch; n++)
        {
            var blockScale = new double[layout.Blocks];
            for (var k = 0; k < inFeatures; k++)
            {
                var i = layout.Permutation is null ? k : layout.Permutation[k];
                blockScale[k / layout.BlockSize] = Math.Max(blockScale[k / layout.BlockSize], Math.Abs(x[n * inFeatures + i]) / maxCode);
            }
            for (var o = 0; o < outFeatures; o++)
            {
                for (var k = 0; k < inFeatures; k++)
                {
                    var i = layout.Permutation is null ? k : layout.Permutation[k];
                    bound[n * outFeatures + o] += Math.Abs(weight[o * inFeatures + i]) * blockScale[k / layout.BlockSize] / 2;
                }
            }
        }
        return bound;
    }

    /// <summary>
    /// Integer activations in [-maxCode, maxCode] with maxCode in every block of <paramref name="layout"/>: their int8 quantization is
    /// exact (scale 1), so a kernel's product must equal the dequantized product up to float rounding — no slack for a
    /// wrong table entry or a misplaced nibble to hide in.
    /// </summary>
    public static float[] ExactActivations(int batch, BlockLayout layout, int seed, int maxCode = 127)
    {
        var random = new Random(seed);
        var x = new float[batch * layout.InFeatures];
        for (var k = 0; k < x.Length; k++)
        {
            x[k] = random.Next(-maxCode, maxCode + 1);
        }
        for (var n = 0; n < batch; n++)
        {
            for (var k = 0; k < layout.InFeatures; k += layout.BlockSize)
            {
                x[n * layout.InFeatures + (layout.Permutation is null ? k : layout.Permutation[k])] = maxCode;
            }
        }
        return x;
    }

    /// <summary>Asserts a SIMD width's product equals the scalar reference's to float summation order.</summary>
    public static void AssertSameAsScalar(float[] expected, float[] actual, double[] magnitude, KernelWidth width)
    {
        for (var k = 0; k < expected.Length; k++)
        {
            Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-5 * magnitude[k] + 1e-7, $"y[{k}]: scalar {expected[k]}, {width} {actual[k]}");
        }
    }

    /// <summary>Asserts a product lies within the activation-quantization bound of the fp64 reference.</summary>
    public static void AssertWithinBound(float[] y, double[] reference, double[] bound, double[] magnitude, string label)
    {
        for (var k = 0; k < y.Length; k++)
        {
            Assert.True(Math.Abs(y[k] - reference[k]) <= bound[k] + 1e-5 * magnitude[k], $"{label} y[{k}] = {y[k]}, reference {reference[k]}, bound {bound[k]}");
        }
    }

    /// <summary>Asserts <paramref name="y"/> equals the fp64 reference to float rounding.</summary>
    public static void AssertExact(float[] weight, float[] x, int batch, int outFeatures, int inFeatures, float[] y, string label)
    {
        var (reference, magnitude) = Reference(weight, x, batch, outFeatures, inFeatures);
        for (var k = 0; k < y.Length; k++)
        {
            Assert.True(Math.Abs(y[k] - reference[k]) <= 1e-5 * magnitude[k] + 1e-6, $"{label} y[{k}] = {y[k]}, reference {reference[k]}");
        }
    }

    public static float[] Run(Int4Matrix matrix, float[] x, int batch, KernelWidth width)
    {
        var activations = new QuantizedActivations();
        activations.Quantize(x, batch, matrix.Layout);
        var y = new float[batch * matrix.OutFeatures];
        QuantizedMatMul.Int4(matrix, activations, y, width);
        return y;
    }

    public static float[] Run(Int8Matrix matrix, float[] x, int batch, KernelWidth width)
    {
        var activations = new QuantizedActivations();
        activations.Quantize(x, batch, matrix.Layout);
        var y = new float[batch * matrix.OutFeatures];
        QuantizedMatMul.Int8(matrix, activations, y, width);
        return y;
    }

    public static TheoryData<KernelWidth> Widths()
    {
        var data = new TheoryData<KernelWidth>();
        foreach (var width in KernelWidths.Supported)
        {
            data.Add(width);
        }
        return data;
    }
}
