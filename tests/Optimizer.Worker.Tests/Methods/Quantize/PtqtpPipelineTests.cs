using System.Text.Json.Nodes;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Quantize.Ptqtp;
using Optimizer.Domain.Models;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Ptqtp;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Quantize;

public sealed class PtqtpPipelineTests
{
    [Theory]
    [InlineData(32)]
    [InlineData(-1)]
    public async Task RunAsync_WritesTwoTritPlanes_ThatLoadBackAsAlphaWeightedSums(int groupSize)
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        var outputDir = Path.Combine(work.Path, "output");
        TinyLlama.Write(sourceDir);

        var result = await new PtqtpPipeline().RunAsync(PipelineRun.Context(work.Path, sourceDir, outputDir, "ptqtp"),
            new PtqtpOptions { GroupSize = groupSize, MaxIters = 20 }, CancellationToken.None);

        Assert.Equal(new QuantizationInfo("ptqtp", 2, groupSize, "trit_planes"), result.Output!.Quantization);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outputDir, "config.json")))!["quantization_config"]!;
        Assert.Equal("ptqtp", config["quant_method"]!.GetValue<string>());
        using var source = ModelFolder.Open(sourceDir);
        // Two planes of ceil(in / 5) bytes per row, 2 float16 scales per group, and the 8-byte shape.
        long bytes = 0, weights = 0;
        foreach (var linearName in TinyLlama.LinearNames)
        {
            var shape = source.GetEntry($"model.layers.0.{linearName}.weight").Shape;
            var (o, i) = (shape[0], shape[1]);
            bytes += 2 * o * ((i + 4) / 5) + o * (groupSize == -1 ? 1 : i / groupSize) * 4 + 8;
            weights += o * i;
        }
        Assert.Equal(8.0 * bytes / weights, (double)result.Metrics["bits_per_weight"]!, 3);
        using var output = ModelFolder.Open(outputDir, [new PtqtpPackedWeightReader()]);
        foreach (var linearName in TinyLlama.LinearNames)
        {
            var name = $"model.layers.0.{linearName}";
            var entry = source.GetEntry(name + ".weight");
            var (outF, inF) = ((int)entry.Shape[0], (int)entry.Shape[1]);
            Assert.Equal(SafetensorsDtype.U8, output.GetEntry(name + PtqtpNames.Plane1).Dtype);
            Assert.Equal(new long[] { outF, (inF + 4) / 5 }, output.GetEntry(name + PtqtpNames.Plane2).Shape);
            Assert.Equal(new long[] { outF, groupSize == -1 ? 1 : inF / groupSize, 2 }, output.GetEntry(name + PtqtpNames.Alpha).Shape);

            var linear = PtqtpPackedWeightReader.Read(output, name);
            var trits = new sbyte[inF];
            TritPacking.Unpack(linear.Plane1.AsSpan(0, (inF + 4) / 5), trits);
            Assert.All(trits, t => Assert.InRange(t, -1, 1));

            using var original = source.ReadTensor(name + ".weight").to_type(ScalarType.Float32);
            using var restored = output.ReadWeight(name + ".weight");
            using var error = (original - restored).square().sum();
            using var norm = original.square().sum();
            // Two trit planes keep most of a Gaussian weight's energy (ternary alone leaves about a third).
            Assert.True(error.item<float>() < 0.15f * norm.item<float>(), $"{name}: relative error {error.item<float>() / norm.item<float>()}");
        }
    }
}
