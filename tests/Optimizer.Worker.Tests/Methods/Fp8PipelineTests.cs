using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Quantize.Fp8;
using Optimizer.Domain.Models;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Fp8;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods;

public sealed class Fp8PipelineTests
{
    [Theory]
    [InlineData("e4m3", "channel", "none")]
    [InlineData("e4m3", "tensor", "fp8")]
    [InlineData("e5m2", "channel", "int8")]
    public async Task RunAsync_WritesF8WeightsWithScales_ThatLoadBackWithinHalfAnUlp(string format, string granularity, string activations)
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        var outputDir = Path.Combine(work.Path, "output");
        Directory.CreateDirectory(outputDir);
        TinyLlama.Write(sourceDir);
        var options = new Fp8Options { Format = format, Granularity = granularity, Activations = activations };
        var progress = new RecordingProgress();

        var result = await new Fp8Pipeline().RunAsync(Context(work.Path, sourceDir, outputDir, progress), options, CancellationToken.None);

        var perChannel = granularity == "channel";
        Assert.Equal(new QuantizationInfo("fp8", 8, perChannel ? -1 : 0, "fp8_" + format), result.Output!.Quantization);
        Assert.Equal(TinyLlama.Layers * TinyLlama.LinearNames.Length, result.Metrics["quantized_layers"]);
        Assert.True(File.Exists(Path.Combine(outputDir, "tokenizer_config.json")));
        Assert.Contains(progress.Reports, r => r.Stage == "quantize");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outputDir, "config.json")))!["quantization_config"]!;
        Assert.Equal("fp8", config["quant_method"]!.GetValue<string>());
        Assert.Equal(format, config["fmt"]!.GetValue<string>());
        Assert.Equal(granularity, config["weight_granularity"]!.GetValue<string>());
        Assert.Equal(activations == "none" ? "none" : "dynamic", config["activation_scheme"]!.GetValue<string>());

        var dtype = format == "e4m3" ? SafetensorsDtype.F8_E4M3 : SafetensorsDtype.F8_E5M2;
        var (fmt, mantissaBits) = format == "e4m3" ? (Fp8Format.E4M3, 3) : (Fp8Format.E5M2, 2);
        var minNormal = format == "e4m3" ? MathF.Pow(2, -6) : MathF.Pow(2, -14);
        using var source = ModelFolder.Open(sourceDir);
        using var output = ModelFolder.Open(outputDir, [new Fp8PackedWeightReader()]);
        Assert.Equal(SafetensorsDtype.F16, output.GetEntry("model.embed_tokens.weight").Dtype);
        Assert.Equal(SafetensorsDtype.F16, output.GetEntry("model.norm.weight").Dtype);
        foreach (var layer in Enumerable.Range(0, TinyLlama.Layers))
        {
            foreach (var linear in TinyLlama.LinearNames)
            {
                var name = $"model.layers.{layer}.{linear}.weight";
                var original = source.GetEntry(name);
                var (outF, inF) = ((int)original.Shape[0], (int)original.Shape[1]);
                Assert.Equal(dtype, output.GetEntry(name).Dtype);
                Assert.Equal(original.Shape, output.GetEntry(name).Shape);
                Assert.Equal(SafetensorsDtype.F32, output.GetEntry(name + "_scale").Dtype);
                Assert.Equal(perChannel ? new long[] { outF, 1 } : [1], output.GetEntry(name + "_scale").Shape);

                using var originalTensor = source.ReadTensor(name).to_type(ScalarType.Float32);
                using var scaleTensor = output.ReadTensor(name + "_scale");
                using var restoredTensor = output.ReadWeight(name);
                var w = originalTensor.data<float>().ToArray();
                var restored = restoredTensor.data<float>().ToArray();
                var scales = scaleTensor.data<float>().ToArray();
                Assert.Equal(w.Length, restored.Length);
                for (var k = 0; k < w.Length; k++)
                {
                    var scale = perChannel ? scales[k / inF] : scales[0];
                    // Normal range: relative error ≤ 2^-(m+1) (2^-4 for e4m3); below it, half the subnormal step.
                    var bound = MathF.Abs(w[k] / scale) >= minNormal
                        ? MathF.ScaleB(MathF.Abs(w[k]), -(mantissaBits + 1)) * 1.0001f
                        : MathF.ScaleB(minNormal, -(mantissaBits + 1)) * scale * 1.0001f;
                    Assert.True(MathF.Abs(w[k] - restored[k]) <= bound, $"{name}[{k}]: |{w[k]} - {restored[k]}| > {bound}");
                }
                // The absmax of each scale's span sits exactly on the format's max.
                Assert.Equal(Fp8.MaxValue(fmt) * scales[0], restored.Take(perChannel ? inF : w.Length).Max(MathF.Abs), 3);
            }
        }
    }

    [Fact]
    public async Task RunAsync_FailsWithInvalidModel_WhenSourceIsAlreadyQuantized()
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        var firstDir = Path.Combine(work.Path, "first");
        Directory.CreateDirectory(firstDir);
        TinyLlama.Write(sourceDir);
        await new Fp8Pipeline().RunAsync(Context(work.Path, sourceDir, firstDir, new RecordingProgress()), new Fp8Options(), CancellationToken.None);

        var ex = await Assert.ThrowsAsync<JobFailedException>(() => new Fp8Pipeline().RunAsync(
            Context(work.Path, firstDir, work.Path, new RecordingProgress()), new Fp8Options(), CancellationToken.None));
        Assert.Equal(JobErrorCodes.InvalidModel, ex.Code);
    }

    private static PipelineContext Context(string workDir, string sourceDir, string outputDir, RecordingProgress progress) =>
        new(new Job("t_test", "quantize", "fp8", "{}"), [new SourceModel(new Model("t_test", "tiny"), sourceDir)], workDir, outputDir,
            progress, new NoModels(), NullLogger.Instance);

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not used");
    }
}
