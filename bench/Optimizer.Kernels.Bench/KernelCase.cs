using Optimizer.Kernels.Bench.Ggml;
using Optimizer.Kernels.Codecs;
using Optimizer.Kernels.LowBit;
using TorchSharp;

namespace Optimizer.Kernels.Bench;

/// <summary>
/// One shape and batch: the fp32 weight and activations (fixed seeds) and every implementation of <c>y = x · Wᵀ</c>
/// built from them, each created on first use and kept for the whole process (BenchmarkDotNet runs every benchmark of a
/// case in the same process with the in-process toolchain, and quantizing 45 M weights per benchmark would dominate).
/// </summary>
internal sealed class KernelCase
{
    private static readonly Dictionary<(int, int, int), KernelCase> Cache = [];
    private readonly Dictionary<int, GgmlMatMul> _ggml = [];
    private Int4Matrix? _int4;
    private Int8Matrix? _int8;
    private Fp4Matrix? _fp4;
    private Fp8Matrix? _fp8;
    private TernaryMatrix? _ternary1;
    private TernaryMatrix? _ternary2;
    private torch.Tensor? _torchWeight;
    private torch.Tensor? _torchInput;

    private KernelCase(int outFeatures, int inFeatures, int batch)
    {
        (OutFeatures, InFeatures, Batch) = (outFeatures, inFeatures, batch);
        Weight = Gaussian((long)outFeatures * inFeatures, seed: 1, scale: 0.02f);
        Input = Gaussian((long)batch * inFeatures, seed: 2, scale: 1f);
        Output = new float[batch * outFeatures];
    }

    public int OutFeatures { get; }

    public int InFeatures { get; }

    public int Batch { get; }

    public float[] Weight { get; }

    public float[] Input { get; }

    public float[] Output { get; }

    public QuantizedActivations Activations { get; } = new();

    public static KernelCase Get(int outFeatures, int inFeatures, int batch)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue((outFeatures, inFeatures, batch), out var found))
            {
                found = new KernelCase(outFeatures, inFeatures, batch);
                Cache[(outFeatures, inFeatures, batch)] = found;
            }
            return found;
        }
    }

    public Int4Matrix Int4 => _int4 ??= QuantizeInt4();

    public Int8Matrix Int8 => _int8 ??= Int8Matrix.Quantize(Weight, OutFeatures, InFeatures);

    /// <summary>E2M1 with a power-of-two scale per group of 32: the MXFP4 recipe, so llama.cpp's MXFP4 is its peer.</summary>
    public Fp4Matrix Fp4 => _fp4 ??= QuantizeFp4();

    /// <summary>E4M3 with one scale per row (the fp8 method's per-channel option).</summary>
    public Fp8Matrix Fp8 => _fp8 ??= Fp8Matrix.Quantize(Weight, OutFeatures, InFeatures);

    /// <summary>One trit plane per group of 128 (BitNet absmean): the bit width of llama.cpp's TQ1_0/TQ2_0.</summary>
    public TernaryMatrix Ternary1 => _ternary1 ??= Ternarize(planes: 1);

    /// <summary>Two trit planes (the second ternarizes the first's residual): PTQTP's shape.</summary>
    public TernaryMatrix Ternary2 => _ternary2 ??= Ternarize(planes: 2);

    public torch.Tensor TorchWeight => _torchWeight ??= torch.tensor(Weight, [OutFeatures, InFeatures]);

    public torch.Tensor TorchInput => _torchInput ??= torch.tensor(Input, [Batch, InFeatures]);

    public GgmlMatMul Ggml(int type)
    {
        if (!_ggml.TryGetValue(type, out var found))
        {
            found = new GgmlMatMul(type, Weight, OutFeatures, InFeatures, Input, Batch, Environment.ProcessorCount);
            _ggml[type] = found;
        }
        return found;
    }

    private Int4Matrix QuantizeInt4()
    {
        var spec = new RtnSpec(4, 128, Symmetric: false);
        var groups = spec.GroupCount(InFeatures);
        var codes = new byte[Weight.LongLength];
        var scales = new float[OutFeatures * groups];
        var zeros = new int[OutFeatures * groups];
        RtnQuantizer.Quantize(Weight, OutFeatures, InFeatures, spec, codes, scales, zeros);
        return Int4Matrix.Pack(codes, scales, zeros, null, OutFeatures, InFeatures, 128);
    }

    private Fp4Matrix QuantizeFp4()
    {
        const int groupSize = 32;
        var groupScales = new float[OutFeatures * (InFeatures / groupSize)];
        var rowScales = new float[OutFeatures];
        Fp4Quantizer.ComputeScales(Weight, OutFeatures, InFeatures, groupSize, Fp4ScaleConstraint.Pow2, groupScales, rowScales);
        var packed = new byte[Codecs.Fp4.PackedLength(Weight.Length)];
        Fp4Quantizer.Encode(Weight, groupScales, rowScales, OutFeatures, InFeatures, groupSize, packed);
        return Fp4Matrix.Pack(packed, groupScales, rowScales, OutFeatures, InFeatures, groupSize);
    }

    private TernaryMatrix Ternarize(int planes)
    {
        const int groupSize = 128;
        var groups = InFeatures / groupSize;
        var trits = new sbyte[planes][];
        var alphas = new float[OutFeatures * groups * planes];
        var residual = (float[])Weight.Clone();
        for (var plane = 0; plane < planes; plane++)
        {
            trits[plane] = new sbyte[residual.LongLength];
            for (var o = 0; o < OutFeatures; o++)
            {
                for (var g = 0; g < groups; g++)
                {
                    var span = residual.AsSpan(o * InFeatures + g * groupSize, groupSize);
                    var scale = 0f;
                    foreach (var w in span)
                    {
                        scale += MathF.Abs(w);
                    }
                    scale = Math.Max(scale / groupSize, 1e-8f);
                    alphas[(o * groups + g) * planes + plane] = scale;
                    for (var k = 0; k < groupSize; k++)
                    {
                        var t = (sbyte)Math.Clamp(MathF.Round(span[k] / scale), -1, 1);
                        trits[plane][o * InFeatures + g * groupSize + k] = t;
                        span[k] -= scale * t;
                    }
                }
            }
        }
        return TernaryMatrix.Pack(trits[0], planes == 2 ? trits[1] : [], alphas, OutFeatures, InFeatures, groupSize);
    }

    private static float[] Gaussian(long count, int seed, float scale)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (long k = 0; k < values.LongLength; k++)
        {
            var u = 1.0 - random.NextDouble();
            values[k] = scale * (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        return values;
    }
}
