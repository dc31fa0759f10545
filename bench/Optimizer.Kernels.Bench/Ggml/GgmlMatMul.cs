using static Optimizer.Kernels.Bench.Ggml.GgmlNative;

namespace Optimizer.Kernels.Bench.Ggml;

/// <summary>
/// <c>y = x · Wᵀ</c> through llama.cpp's own CPU path: W quantized by <c>ggml_quantize_chunk</c> to one ggml type, x fp32
/// <c>[batch, in]</c>, one <c>ggml_mul_mat</c> node planned once (<c>ggml_graph_plan</c>, work buffer allocated once) and
/// computed by <c>ggml_graph_compute</c> on every core (the build's OpenMP threads), which converts x to the weight type's
/// dot type (e.g. Q8_0/Q8_K) inside the timed call — as our kernels quantize activations inside theirs.
/// </summary>
/// <remarks>
/// Not <c>ggml_graph_compute_with_ctx</c>: it allocates a fresh work buffer in the context on every call, which
/// exhausts the context's pool after a few thousand benchmark invocations.
/// </remarks>
internal sealed unsafe class GgmlMatMul : IDisposable
{
    private readonly nint _context;
    private readonly nint _graph;
    private readonly nint _output;
    private readonly nint _work;
    private ComputePlan _plan;

    public GgmlMatMul(int type, float[] weight, int outFeatures, int inFeatures, float[] x, int batch, int threads)
    {
        Load();
        var weightBytes = (long)(ulong)ggml_row_size(type, inFeatures) * outFeatures;
        // Weights, activations, output, the graph, and the work buffer compute_with_ctx allocates in the context.
        var size = weightBytes + 8L * inFeatures * batch + 4L * outFeatures * batch + (64L << 20);
        _context = ggml_init(new InitParams { MemSize = (nuint)size });
        if (_context == 0)
        {
            throw new InvalidOperationException($"ggml_init failed for {size} bytes.");
        }
        var a = ggml_new_tensor_2d(_context, type, inFeatures, outFeatures);
        var b = ggml_new_tensor_2d(_context, TypeF32, inFeatures, batch);
        WeightBytes = (long)(ulong)ggml_nbytes(a);
        fixed (float* source = weight)
        {
            if (type == TypeF32)
            {
                Buffer.MemoryCopy(source, (void*)ggml_get_data(a), WeightBytes, WeightBytes);
            }
            else
            {
                ggml_quantize_init(type);
                ggml_quantize_chunk(type, source, (void*)ggml_get_data(a), 0, outFeatures, inFeatures, null);
            }
        }
        x.AsSpan().CopyTo(new Span<float>((void*)ggml_get_data(b), x.Length));
        _output = ggml_mul_mat(_context, a, b);
        _graph = ggml_new_graph(_context);
        ggml_build_forward_expand(_graph, _output);
        _plan = ggml_graph_plan(_graph, threads, 0);
        _work = System.Runtime.InteropServices.Marshal.AllocHGlobal((nint)Math.Max(1UL, (ulong)_plan.WorkSize));
        _plan.WorkData = _work;
        Output = new float[outFeatures * batch];
    }

    /// <summary>Bytes of the quantized weight tensor.</summary>
    public long WeightBytes { get; }

    /// <summary>The last product, <c>[batch, out]</c>.</summary>
    public float[] Output { get; }

    public void Run()
    {
        fixed (ComputePlan* plan = &_plan)
        {
            var status = ggml_graph_compute(_graph, plan);
            if (status != 0)
            {
                throw new InvalidOperationException($"ggml_graph_compute returned status {status}.");
            }
        }
    }

    /// <summary>Copies the product out (for the correctness check, not timed).</summary>
    public float[] ReadOutput()
    {
        new ReadOnlySpan<float>((void*)ggml_get_data(_output), Output.Length).CopyTo(Output);
        return Output;
    }

    public void Dispose()
    {
        ggml_free(_context);
        System.Runtime.InteropServices.Marshal.FreeHGlobal(_work);
    }
}
