using Optimizer.Kernels.Bench.Ggml;
using Optimizer.Kernels.LowBit;
using TorchSharp;

namespace Optimizer.Kernels.Bench;

/// <summary>
/// Before timing anything: every implementation's product on 4096 × 4096, batch 8, against the fp64 product of the fp32
/// weights (relative RMS error). Shows that each peer computes the same product (a layout mistake would show as ~1.0)
/// and what each format costs in accuracy.
/// </summary>
internal static class AccuracyCheck
{
    public static void Print()
    {
        var c = KernelCase.Get(4096, 4096, 8);
        var reference = Reference(c);
        Console.WriteLine();
        Console.WriteLine("relative RMS error vs the fp64 product of the fp32 weights (4096 x 4096, batch 8):");
        Row("torch fp32", Torch(c), reference);
        c.Activations.Quantize(c.Input, c.Batch, c.Int4.Layout);
        QuantizedMatMul.Int4(c.Int4, c.Activations, c.Output);
        Row("ours int4 g128", c.Output, reference);
        c.Activations.Quantize(c.Input, c.Batch, c.Int8.Layout);
        QuantizedMatMul.Int8(c.Int8, c.Activations, c.Output);
        Row("ours int8", c.Output, reference);
        c.Activations.Quantize(c.Input, c.Batch, c.Fp4.Layout);
        QuantizedMatMul.Fp4(c.Fp4, c.Activations, c.Output);
        Row("ours fp4 e2m1 g32", c.Output, reference);
        QuantizedMatMul.Fp8(c.Fp8, c.Input, c.Batch, c.Output);
        Row("ours fp8 e4m3", c.Output, reference);
        foreach (var (name, matrix) in new[] { ("ours ternary 1-plane", c.Ternary1), ("ours ternary 2-plane", c.Ternary2) })
        {
            c.Activations.Quantize(c.Input, c.Batch, matrix.Layout, QuantizedMatMul.TernaryMaxCode);
            QuantizedMatMul.Ternary(matrix, c.Activations, c.Output);
            Row(name, c.Output, reference);
        }
        foreach (var (name, type) in new[] { ("llama.cpp F32", GgmlNative.TypeF32), ("llama.cpp Q4_0", GgmlNative.TypeQ4_0),
            ("llama.cpp Q4_K", GgmlNative.TypeQ4_K), ("llama.cpp Q8_0", GgmlNative.TypeQ8_0),
            ("llama.cpp TQ1_0", GgmlNative.TypeTQ1_0), ("llama.cpp TQ2_0", GgmlNative.TypeTQ2_0),
            ("llama.cpp MXFP4", GgmlNative.TypeMXFP4) })
        {
            var ggml = c.Ggml(type);
            ggml.Run();
            Row(name, ggml.ReadOutput(), reference);
        }
        Console.WriteLine($"(llama.cpp build loaded: {GgmlNative.Variant}; TQ1_0/TQ2_0 are ternary: their error is the format's, on non-ternary weights)");
        Console.WriteLine();
    }

    private static float[] Torch(KernelCase c)
    {
        using var y = torch.nn.functional.linear(c.TorchInput, c.TorchWeight);
        return y.data<float>().ToArray();
    }

    private static double[] Reference(KernelCase c)
    {
        var y = new double[c.Batch * c.OutFeatures];
        Parallel.For(0, c.OutFeatures, o =>
        {
            for (var n = 0; n < c.Batch; n++)
            {
                var sum = 0.0;
                for (var i = 0; i < c.InFeatures; i++)
                {
                    sum += (double)c.Weight[(long)o * c.InFeatures + i] * c.Input[n * c.InFeatures + i];
                }
                y[n * c.OutFeatures + o] = sum;
            }
        });
        return y;
    }

    private static void Row(string name, float[] y, double[] reference)
    {
        double error = 0, norm = 0;
        for (var k = 0; k < reference.Length; k++)
        {
            error += (y[k] - reference[k]) * (y[k] - reference[k]);
            norm += reference[k] * reference[k];
        }
        Console.WriteLine($"  {name,-21} {Math.Sqrt(error / norm):E2}");
    }
}
