using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.Bench.Ggml;

/// <summary>
/// The few functions of llama.cpp's ggml (from the NuGet package LLamaSharp.Backend.Cpu 0.30.0) the benchmark calls:
/// build a one-node <c>ggml_mul_mat</c> graph and compute it on the CPU backend.
/// </summary>
internal static partial class GgmlNative
{
    // ggml.h enum ggml_type.
    public const int TypeF32 = 0;
    public const int TypeQ4_0 = 2;
    public const int TypeQ8_0 = 8;
    public const int TypeQ4_K = 12;
    public const int TypeTQ1_0 = 34;
    public const int TypeTQ2_0 = 35;
    public const int TypeMXFP4 = 39;

    private const string Base = "ggml-base";
    private const string Cpu = "ggml-cpu";

    /// <summary>Which build of the package's libraries was loaded (avx512, avx2, avx or noavx).</summary>
    public static string Variant { get; private set; } = "";

    /// <summary>Loads the widest build this CPU runs and routes the imports to it. Call once before anything else.</summary>
    public static void Load()
    {
        if (Variant.Length > 0)
        {
            return;
        }
        // The package ships one build per instruction set; an avx512 build faults on a CPU without AVX-512.
        Variant = Avx512BW.IsSupported ? "avx512" : Avx2.IsSupported ? "avx2" : Avx.IsSupported ? "avx" : "noavx";
        var directory = Path.Combine(AppContext.BaseDirectory, "llama.cpp", Variant);
        var baseHandle = NativeLibrary.Load(Path.Combine(directory, "libggml-base.so"));
        var cpuHandle = NativeLibrary.Load(Path.Combine(directory, "libggml-cpu.so"));
        NativeLibrary.SetDllImportResolver(Assembly.GetExecutingAssembly(), (name, _, _) =>
            name == Base ? baseHandle : name == Cpu ? cpuHandle : 0);
        ggml_cpu_init();
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct InitParams
    {
        public nuint MemSize;
        public nint MemBuffer;
        public byte NoAlloc;
    }

    [LibraryImport(Base)]
    public static partial nint ggml_init(InitParams parameters);

    [LibraryImport(Base)]
    public static partial void ggml_free(nint context);

    [LibraryImport(Base)]
    public static partial nint ggml_new_tensor_2d(nint context, int type, long ne0, long ne1);

    [LibraryImport(Base)]
    public static partial nint ggml_mul_mat(nint context, nint a, nint b);

    [LibraryImport(Base)]
    public static partial nint ggml_new_graph(nint context);

    [LibraryImport(Base)]
    public static partial void ggml_build_forward_expand(nint graph, nint tensor);

    [LibraryImport(Base)]
    public static partial nint ggml_get_data(nint tensor);

    [LibraryImport(Base)]
    public static partial nuint ggml_nbytes(nint tensor);

    [LibraryImport(Base)]
    public static partial nuint ggml_row_size(int type, long elements);

    [LibraryImport(Base)]
    public static partial void ggml_quantize_init(int type);

    [LibraryImport(Base)]
    public static unsafe partial nuint ggml_quantize_chunk(int type, float* source, void* destination, long start, long rows,
        long perRow, float* importance);

    [LibraryImport(Cpu)]
    public static partial void ggml_cpu_init();

    /// <summary>
    /// ggml-cpu.h <c>struct ggml_cplan</c>. Trailing spare bytes: newer builds append fields (e.g. <c>use_ref</c>), which
    /// then read as zero (false) here.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct ComputePlan
    {
        public nuint WorkSize;
        public nint WorkData;
        public int Threads;
        public nint Threadpool;
        public nint AbortCallback;
        public nint AbortCallbackData;
        public fixed byte Spare[64];
    }

    [LibraryImport(Cpu)]
    public static partial ComputePlan ggml_graph_plan(nint graph, int threads, nint threadpool);

    [LibraryImport(Cpu)]
    public static unsafe partial int ggml_graph_compute(nint graph, ComputePlan* plan);
}
