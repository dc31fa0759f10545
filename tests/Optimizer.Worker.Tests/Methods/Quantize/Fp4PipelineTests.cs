using System.Text.Json.Nodes;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Quantize.Fp4;
using Optimizer.Domain.Models;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Quantize;

public sealed class Fp4PipelineTests
{
    [Theory]
    [InlineData("none", 32, 0)]
    [InlineData("pow2", 32, 0)]
    [InlineData("row_pow2", 16, 0)]
    [InlineData("none", -1, 4)]
    public async Task RunAsync_WritesPackedNibblesAndScales_ThatLoadBackNearTheWeights(string constraint, int groupSize, int lorcRank)
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        var outputDir = Path.Combine(work.Path, "output");
        TinyLlama.Write(sourceDir);
        var options = new Fp4Options { ScaleConstraint = constraint, GroupSize = groupSize, LorcRank = lorcRank };

        var result = await new Fp4Pipeline(new FixedDatasetText("")).RunAsync(PipelineRun.Context(work.Path, sourceDir, outputDir, "fp4"), options, CancellationToken.None);

        Assert.Equal(new QuantizationInfo("fp4", 4, groupSize, "fp4_e2m1"), result.Output!.Quantization);
        Assert.Equal(TinyLlama.Layers * TinyLlama.LinearNames.Length, result.Metrics["quantized_layers"]);
        using var source = ModelFolder.Open(sourceDir);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outputDir, "config.json")))!["quantization_config"]!;
        Assert.Equal("fp4", config["quant_method"]!.GetValue<string>());
        Assert.Equal(constraint, config["scale_constraint"]!.GetValue<string>());
        Assert.Equal("dynamic", config["activation_scheme"]!.GetValue<string>());

        using var output = ModelFolder.Open(outputDir, [new Fp4PackedWeightReader()]);
        var name = "model.layers.1.mlp.down_proj";
        var entry = source.GetEntry(name + ".weight");
        var (outF, inF) = ((int)entry.Shape[0], (int)entry.Shape[1]);
        var groups = groupSize == -1 ? 1 : inF / groupSize;
        Assert.False(output.ContainsTensor(name + ".weight"));
        Assert.Equal(new long[] { outF, inF / 2 }, output.GetEntry(name + Fp4Names.Packed).Shape);
        Assert.Equal(constraint == "none" ? SafetensorsDtype.F16 : SafetensorsDtype.U8, output.GetEntry(name + Fp4Names.Scale).Dtype);
        Assert.Equal(new long[] { outF, groups }, output.GetEntry(name + Fp4Names.Scale).Shape);
        Assert.Equal(constraint == "row_pow2", output.ContainsTensor(name + Fp4Names.RowScale));
        Assert.Equal(lorcRank > 0, output.ContainsTensor(name + Fp4Names.LorcU));
        // 4 bits per weight plus the scales (2 bytes as float16, 1 as E8M0), M2's float32 row scales and the LoRC factors.
        long bytes = 0, weights = 0;
        foreach (var linearName in TinyLlama.LinearNames)
        {
            var shape = source.GetEntry($"model.layers.0.{linearName}.weight").Shape;
            var (o, i) = (shape[0], shape[1]);
            bytes += o * i / 2 + o * (groupSize == -1 ? 1 : i / groupSize) * (constraint == "none" ? 2 : 1)
                + (constraint == "row_pow2" ? 4 * o : 0) + 2L * Math.Min(lorcRank, Math.Min(o, i)) * (o + i);
            weights += o * i;
        }
        Assert.Equal(8.0 * bytes / weights, (double)result.Metrics["bits_per_weight"]!, 3);

        using var original = source.ReadTensor(name + ".weight").to_type(ScalarType.Float32);
        using var restored = output.ReadWeight(name + ".weight");
        var w = original.data<float>().ToArray();
        var r = restored.data<float>().ToArray();
        var linear = Fp4PackedWeightReader.Read(output, name);
        double errorSquared = 0, boundSquared = 0;
        for (var k = 0; k < w.Length; k++)
        {
            var row = k / inF;
            var scale = linear.RowScales[row] * linear.GroupScales[row * groups + k % inF / (inF / groups)];
            errorSquared += (w[k] - r[k]) * (w[k] - r[k]);
            boundSquared += scale * scale;
            // Half the widest E2M1 gap (4 → 6) is one scale unit. LoRC moves values off the grid: checked in total below.
            Assert.True(lorcRank > 0 || Math.Abs(w[k] - r[k]) <= scale * 1.0001f, $"[{k}] {w[k]} vs {r[k]} (scale {scale})");
        }
        Assert.True(errorSquared <= boundSquared, $"squared error {errorSquared} above {boundSquared}");
    }

    [Fact]
    public async Task RunAsync_LorcLowersTheReconstructionError()
    {
        using var work = new TempDirectory();
        var sourceDir = Path.Combine(work.Path, "source");
        TinyLlama.Write(sourceDir, ScalarType.Float32);
        double Error(string dir)
        {
            using var source = ModelFolder.Open(sourceDir);
            using var output = ModelFolder.Open(dir, [new Fp4PackedWeightReader()]);
            using var w = source.ReadTensor("model.layers.0.mlp.up_proj.weight");
            using var r = output.ReadWeight("model.layers.0.mlp.up_proj.weight");
            using var diff = (w - r).square().sum();
            return diff.item<float>();
        }
        var plain = Path.Combine(work.Path, "plain");
        var lorc = Path.Combine(work.Path, "lorc");
        await new Fp4Pipeline(new FixedDatasetText("")).RunAsync(PipelineRun.Context(work.Path, sourceDir, plain, "fp4"), new Fp4Options(), CancellationToken.None);
        await new Fp4Pipeline(new FixedDatasetText("")).RunAsync(PipelineRun.Context(work.Path, sourceDir, lorc, "fp4"), new Fp4Options { LorcRank = 8 }, CancellationToken.None);

        Assert.True(Error(lorc) < 0.95 * Error(plain), $"LoRC {Error(lorc)} vs plain {Error(plain)}");
    }
}
