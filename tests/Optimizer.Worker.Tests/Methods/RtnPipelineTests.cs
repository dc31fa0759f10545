using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Domain.Models;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Gptq;
using Optimizer.Worker.Methods.Quantize.Rtn;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods;

public sealed class RtnPipelineTests
{
    [Theory]
    [InlineData(4, 32, false)]
    [InlineData(3, -1, false)]
    [InlineData(8, 16, true)]
    [InlineData(2, 64, false)]
    public async Task RunAsync_WritesGptqCheckpointThatLoadsBackWithinHalfAStep(int bits, int groupSize, bool symmetric)
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        var outputDir = Path.Combine(work.Path, "output");
        Directory.CreateDirectory(outputDir);
        TinyLlama.Write(sourceDir);
        var options = new RtnOptions { Bits = bits, GroupSize = groupSize, Symmetric = symmetric };
        var progress = new RecordingProgress();
        var context = new PipelineContext(new Job("t_test", "quantize", "rtn", "{}"),
            [new SourceModel(new Model("t_test", "tiny"), sourceDir)], work.Path, outputDir, progress,
            new NoModels(), NullLogger.Instance);

        var result = await new RtnPipeline().RunAsync(context, options, CancellationToken.None);

        Assert.Equal(new QuantizationInfo("rtn", bits, groupSize, "gptq"), result.Output!.Quantization);
        Assert.Equal("LlamaForCausalLM", result.Output.Architecture);
        Assert.Equal(TinyLlama.Layers * TinyLlama.LinearNames.Length, result.Metrics["quantized_layers"]);
        Assert.True(File.Exists(Path.Combine(outputDir, "tokenizer_config.json")));
        Assert.Contains(progress.Reports, r => r.Stage == "quantize");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outputDir, "config.json")))!["quantization_config"]!;
        Assert.Equal("gptq", config["quant_method"]!.GetValue<string>());
        Assert.Equal(bits, config["bits"]!.GetValue<int>());
        Assert.Equal(groupSize, config["group_size"]!.GetValue<int>());
        Assert.Equal(symmetric, config["sym"]!.GetValue<bool>());
        Assert.False(config["desc_act"]!.GetValue<bool>());

        using var source = ModelFolder.Open(sourceDir);
        using var output = ModelFolder.Open(outputDir, [new GptqPackedWeightReader()]);
        Assert.Equal(SafetensorsDtype.F16, output.GetEntry("model.embed_tokens.weight").Dtype);
        Assert.True(output.ContainsTensor("lm_head.weight"));
        Assert.True(output.ContainsTensor("model.norm.weight"));
        Assert.False(output.ContainsTensor("model.layers.0.mlp.down_proj.weight"));
        foreach (var layer in Enumerable.Range(0, TinyLlama.Layers))
        {
            foreach (var linear in TinyLlama.LinearNames)
            {
                var prefix = $"model.layers.{layer}.{linear}";
                var original = source.GetEntry(prefix + ".weight");
                var (outF, inF) = ((int)original.Shape[0], (int)original.Shape[1]);
                var groups = groupSize == -1 ? 1 : inF / groupSize;
                AssertEntry(output, prefix + ".qweight", SafetensorsDtype.I32, [inF * bits / 32, outF]);
                AssertEntry(output, prefix + ".qzeros", SafetensorsDtype.I32, [groups, outF * bits / 32]);
                AssertEntry(output, prefix + ".scales", SafetensorsDtype.F16, [groups, outF]);
                AssertEntry(output, prefix + ".g_idx", SafetensorsDtype.I32, [inF]);
                AssertWithinHalfStep(source, output, prefix + ".weight", outF, inF, new RtnSpec(bits, groupSize, symmetric));
            }
        }
    }

    [Fact]
    public async Task RunAsync_FailsWithInvalidParams_WhenNoLayerFitsTheGroupSize()
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        TinyLlama.Write(sourceDir);
        var context = new PipelineContext(new Job("t_test", "quantize", "rtn", "{}"),
            [new SourceModel(new Model("t_test", "tiny"), sourceDir)], work.Path, work.Path, new RecordingProgress(),
            new NoModels(), NullLogger.Instance);

        var ex = await Assert.ThrowsAsync<JobFailedException>(() =>
            new RtnPipeline().RunAsync(context, new RtnOptions { GroupSize = 4096 }, CancellationToken.None));
        Assert.Equal(JobErrorCodes.InvalidParams, ex.Code);
    }

    private static void AssertEntry(ModelFolder folder, string name, SafetensorsDtype dtype, long[] shape)
    {
        var entry = folder.GetEntry(name);
        Assert.Equal(dtype, entry.Dtype);
        Assert.Equal(shape, entry.Shape);
    }

    private static void AssertWithinHalfStep(ModelFolder source, ModelFolder output, string name, int outF, int inF, RtnSpec spec)
    {
        using var originalTensor = source.ReadTensor(name).to_type(ScalarType.Float32);
        using var restoredTensor = output.ReadWeight(name);
        Assert.Equal(ScalarType.Float32, restoredTensor.dtype);
        Assert.Equal(new long[] { outF, inF }, restoredTensor.shape);
        var original = originalTensor.data<float>().ToArray();
        var restored = restoredTensor.data<float>().ToArray();
        var size = spec.EffectiveGroupSize(inF);
        for (var o = 0; o < outF; o++)
        {
            for (var g = 0; g < inF / size; g++)
            {
                var group = original.AsSpan(o * inF + g * size, size);
                var (scale, zero) = RtnQuantizer.FindParams(group, spec.Bits, spec.Symmetric);
                for (var i = 0; i < size; i++)
                {
                    var k = o * inF + g * size + i;
                    var q = MathF.Round(original[k] / scale) + zero;
                    if (q < 0 || q > spec.MaxQ)
                    {
                        continue; // clipped (only possible on the symmetric grid's edge)
                    }
                    // s/2 from rounding, plus the float16 rounding of the stored scale times the code distance.
                    var bound = scale / 2 + scale * spec.MaxQ / 1024f;
                    Assert.True(MathF.Abs(original[k] - restored[k]) <= bound,
                        $"{name}[{o},{g * size + i}]: |{original[k]} - {restored[k]}| > {bound}");
                }
            }
        }
    }

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not used");
    }
}
