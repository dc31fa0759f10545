using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Domain.Methods.Quantize.Fp8;
using Optimizer.Domain.Methods.Quantize.Ptqtp;
using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Inference;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Methods.Quantize.Fp8;
using Optimizer.Worker.Methods.Quantize.Ptqtp;
using Optimizer.Worker.Methods.Quantize.Rtn;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Inference;

/// <summary>
/// Every projection of a tiny Llama quantized by each method, run through its <see cref="KernelLinear"/>, against the
/// dequantize-then-matmul product of the same stored weight, within the activation-quantization bound.
/// </summary>
public sealed class KernelLinearTests
{
    /// <summary>Rows per product: two full kernel calls of 16 and a remainder of 5 (four-row and one-row dots).</summary>
    private const int Rows = 37;

    public static TheoryData<string> Methods() => new(MethodRuns.Keys);

    private static readonly Dictionary<string, (string Format, int MaxCode, Func<PipelineContext, CancellationToken, Task<PipelineResult>> Run)> MethodRuns = new()
    {
        ["rtn-w4g32"] = ("int4 g32", 127, (c, t) => new RtnPipeline().RunAsync(c, new RtnOptions { Bits = 4, GroupSize = 32 }, t)),
        ["rtn-w8g32"] = ("int8 g32", 127, (c, t) => new RtnPipeline().RunAsync(c, new RtnOptions { Bits = 8, GroupSize = 32 }, t)),
        ["fp8"] = ("fp8 e4m3", 0, (c, t) => new Fp8Pipeline().RunAsync(c, new Fp8Options(), t)),
        ["fp4-g32"] = ("fp4 e2m1 g32", 127, (c, t) => new Fp4Pipeline(new FixedDatasetText("")).RunAsync(c, new Fp4Options(), t)),
        ["fp4-g32-lorc4"] = ("fp4 e2m1 g32", 127, (c, t) => new Fp4Pipeline(new FixedDatasetText("")).RunAsync(c, new Fp4Options { LorcRank = 4 }, t)),
        ["ptqtp-g32"] = ("ternary 2-plane g32", 31, (c, t) => new PtqtpPipeline().RunAsync(c, new PtqtpOptions { GroupSize = 32 }, t)),
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Forward_EqualsDequantizedMatMul_WithinActivationQuantizationBound(string method)
    {
        var ct = TestContext.Current.CancellationToken;
        using var work = new TempDirectory();
        var (format, maxCode, run) = MethodRuns[method];
        var outputDir = await QuantizeTinyLlamaAsync(work.Path, method, run, ct);
        using var folder = ModelFolder.Open(outputDir, LlamaLanguageModelComparer.PackedReaders);
        using var noGrad = torch.no_grad();
        var generator = new torch.Generator(17);

        foreach (var prefix in TinyLlama.LinearNames.SelectMany(n => Enumerable.Range(0, TinyLlama.Layers).Select(l => $"model.layers.{l}.{n}")))
        {
            using var scope = torch.NewDisposeScope();
            using var linear = KernelLinearReader.TryRead(folder, prefix);
            Assert.True(linear is not null, $"{method}: no kernel for {prefix}");
            Assert.Equal(format, linear.Weight.Format);
            var weight = folder.ReadWeight(prefix + ".weight");
            var x = torch.randn([Rows, weight.shape[1]], generator: generator);

            var actual = linear.forward(x);

            var expected = x.to(ScalarType.Float64).matmul(weight.to(ScalarType.Float64).t());
            // |x − sx·q| ≤ sx/2 with sx = block absmax / maxCode ≤ row absmax / maxCode, so |Δy_o| ≤ Σ_i |w_oi| · absmax / (2·maxCode);
            // plus float32 rounding of a dot of this length.
            var rowAbsMax = x.abs().amax([1], keepdim: true).to(ScalarType.Float64);
            var weightL1 = weight.abs().sum([1]).to(ScalarType.Float64).unsqueeze(0);
            var bound = maxCode == 0 ? torch.zeros_like(expected) : rowAbsMax * weightL1 / (2.0 * maxCode);
            var rounding = x.abs().to(ScalarType.Float64).matmul(weight.abs().to(ScalarType.Float64).t()) * 1e-5 + 1e-6;
            var excess = ((actual.to(ScalarType.Float64) - expected).abs() - bound - rounding).max().item<double>();
            Assert.True(excess <= 0, $"{method} {prefix}: the kernel exceeds the bound by {excess}");
            Assert.Equal(expected.shape, actual.shape);
        }
    }

    [Fact]
    public async Task Forward_KeepsLeadingDimensions_AndAddsTheBias()
    {
        var ct = TestContext.Current.CancellationToken;
        using var work = new TempDirectory();
        var outputDir = await QuantizeTinyLlamaAsync(work.Path, "fp8", MethodRuns["fp8"].Run, ct);
        using var folder = ModelFolder.Open(outputDir, LlamaLanguageModelComparer.PackedReaders);
        using var noGrad = torch.no_grad();
        var matrix = KernelLinearReader.TryRead(folder, "model.layers.0.mlp.down_proj")!.Weight;
        using var linear = new KernelLinear(matrix, hasBias: true);
        linear.Bias!.copy_(torch.arange(TinyLlama.Hidden, dtype: ScalarType.Float32));
        using var x = torch.randn([2, 3, TinyLlama.Intermediate], generator: new torch.Generator(3));

        using var y = linear.forward(x);
        using var flat = linear.forward(x.reshape(6, TinyLlama.Intermediate));

        Assert.Equal([2L, 3, TinyLlama.Hidden], y.shape);
        using var same = y.reshape(6, TinyLlama.Hidden).eq(flat).all();
        Assert.True(same.item<bool>());
        using var withoutBias = new KernelLinear(matrix).forward(x);
        Assert.True((y - withoutBias - torch.arange(TinyLlama.Hidden, dtype: ScalarType.Float32)).abs().max().item<float>() < 1e-4f);
    }

    [Fact]
    public async Task TryRead_ReturnsNull_ForLinearsNoKernelRuns()
    {
        var ct = TestContext.Current.CancellationToken;
        using var work = new TempDirectory();
        var rtn3 = await QuantizeTinyLlamaAsync(work.Path, "rtn-w3",
            (c, t) => new RtnPipeline().RunAsync(c, new RtnOptions { Bits = 3, GroupSize = 32 }, t), ct);
        var dense = Path.Combine(work.Path, "dense");
        TinyLlama.Write(dense, ScalarType.Float32);

        using var rtn3Folder = ModelFolder.Open(rtn3, LlamaLanguageModelComparer.PackedReaders);
        using var denseFolder = ModelFolder.Open(dense, LlamaLanguageModelComparer.PackedReaders);
        Assert.Null(KernelLinearReader.TryRead(rtn3Folder, "model.layers.0.mlp.up_proj"));
        Assert.Null(KernelLinearReader.TryRead(denseFolder, "model.layers.0.mlp.up_proj"));
        using var model = KernelModel.Load(rtn3Folder);
        Assert.Empty(KernelModel.Linears(model));
    }

    [Fact]
    public async Task Load_RunsEveryProjectionOnAKernel_AndLoadsTheRestDense()
    {
        var ct = TestContext.Current.CancellationToken;
        using var work = new TempDirectory();
        var outputDir = await QuantizeTinyLlamaAsync(work.Path, "rtn-w4g32", MethodRuns["rtn-w4g32"].Run, ct);
        using var folder = ModelFolder.Open(outputDir, LlamaLanguageModelComparer.PackedReaders);

        using var kernel = KernelModel.Load(folder);
        using var dense = LlamaForCausalLM.FromFolder(folder);

        Assert.Equal(TinyLlama.Layers * TinyLlama.LinearNames.Length, KernelModel.Linears(kernel).Count);
        // Only the embeddings, norms and lm_head remain parameters; the kernel linears hold their weights packed.
        Assert.Equal(dense.named_parameters().Count() - TinyLlama.Layers * TinyLlama.LinearNames.Length, kernel.named_parameters().Count());
        using var noGrad = torch.no_grad();
        using var ids = torch.tensor(new long[] { 1, 5, 9, 2, 40, 41, 7, 3 }, [1, 8], dtype: ScalarType.Int64);
        using var expected = dense.forward(ids);
        using var actual = kernel.forward(ids);
        Assert.Equal(expected.shape, actual.shape);
        var relative = ((actual - expected).norm() / expected.norm()).item<float>();
        Assert.True(relative < 0.05f, $"relative logit error {relative}");
    }

    private static async Task<string> QuantizeTinyLlamaAsync(string work, string method,
        Func<PipelineContext, CancellationToken, Task<PipelineResult>> run, CancellationToken ct)
    {
        var source = Path.Combine(work, "source");
        if (!Directory.Exists(source))
        {
            TinyLlama.Write(source, ScalarType.Float32);
        }
        var output = Path.Combine(work, method);
        await run(PipelineRun.Context(work, source, output, method), ct);
        return output;
    }
}
