using BenchmarkDotNet.Attributes;
using Optimizer.Kernels.Bench.Ggml;
using Optimizer.Kernels.LowBit;
using TorchSharp;

namespace Optimizer.Kernels.Bench;

/// <summary>
/// <c>y = x · Wᵀ</c> for Llama-7B-sized projections (<c>out × in</c>: 4096 × 4096 attention, 11008 × 4096 MLP up/gate),
/// batch 1 and 8: our kernels beside TorchSharp fp32 and llama.cpp's kernels of the same bit width, all on every core.
/// Each timed call includes quantizing the activations, as llama.cpp's does.
/// </summary>
public class MatMulBenchmarks
{
    private KernelCase _case = null!;

    /// <summary>The shapes to time: both, or those named by <c>--shape</c> (see <see cref="BenchSelection"/>).</summary>
    public static IEnumerable<string> Shapes => BenchSelection.Shapes;

    /// <summary>The batch sizes to time: 1 and 8, or those named by <c>--batch</c>.</summary>
    public static IEnumerable<int> Batches => BenchSelection.Batches;

    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "";

    [ParamsSource(nameof(Batches))]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var parts = Shape.Split('x');
        _case = KernelCase.Get(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), Batch);
        torch.set_num_threads(Environment.ProcessorCount);
    }

    [Benchmark(Baseline = true, Description = "torch fp32")]
    public void TorchFp32()
    {
        using var y = torch.nn.functional.linear(_case.TorchInput, _case.TorchWeight);
    }

    [Benchmark(Description = "ours int4 g128")]
    public void OursInt4()
    {
        _case.Activations.Quantize(_case.Input, _case.Batch, _case.Int4.Layout);
        QuantizedMatMul.Int4(_case.Int4, _case.Activations, _case.Output);
    }

    [Benchmark(Description = "ours int8")]
    public void OursInt8()
    {
        _case.Activations.Quantize(_case.Input, _case.Batch, _case.Int8.Layout);
        QuantizedMatMul.Int8(_case.Int8, _case.Activations, _case.Output);
    }

    [Benchmark(Description = "ours fp4 e2m1 g32")]
    public void OursFp4()
    {
        _case.Activations.Quantize(_case.Input, _case.Batch, _case.Fp4.Layout);
        QuantizedMatMul.Fp4(_case.Fp4, _case.Activations, _case.Output);
    }

    [Benchmark(Description = "ours fp8 e4m3")]
    public void OursFp8() => QuantizedMatMul.Fp8(_case.Fp8, _case.Input, _case.Batch, _case.Output);

    [Benchmark(Description = "ours ternary 1-plane")]
    public void OursTernary1()
    {
        _case.Activations.Quantize(_case.Input, _case.Batch, _case.Ternary1.Layout, QuantizedMatMul.TernaryMaxCode);
        QuantizedMatMul.Ternary(_case.Ternary1, _case.Activations, _case.Output);
    }

    [Benchmark(Description = "ours ternary 2-plane")]
    public void OursTernary2()
    {
        _case.Activations.Quantize(_case.Input, _case.Batch, _case.Ternary2.Layout, QuantizedMatMul.TernaryMaxCode);
        QuantizedMatMul.Ternary(_case.Ternary2, _case.Activations, _case.Output);
    }

    [Benchmark(Description = "llama.cpp MXFP4")]
    public void GgmlMxfp4() => _case.Ggml(GgmlNative.TypeMXFP4).Run();

    [Benchmark(Description = "llama.cpp F32")]
    public void GgmlF32() => _case.Ggml(GgmlNative.TypeF32).Run();

    [Benchmark(Description = "llama.cpp Q4_0")]
    public void GgmlQ4_0() => _case.Ggml(GgmlNative.TypeQ4_0).Run();

    [Benchmark(Description = "llama.cpp Q4_K")]
    public void GgmlQ4_K() => _case.Ggml(GgmlNative.TypeQ4_K).Run();

    [Benchmark(Description = "llama.cpp Q8_0")]
    public void GgmlQ8_0() => _case.Ggml(GgmlNative.TypeQ8_0).Run();

    [Benchmark(Description = "llama.cpp TQ1_0")]
    public void GgmlTQ1_0() => _case.Ggml(GgmlNative.TypeTQ1_0).Run();

    [Benchmark(Description = "llama.cpp TQ2_0")]
    public void GgmlTQ2_0() => _case.Ggml(GgmlNative.TypeTQ2_0).Run();
}
