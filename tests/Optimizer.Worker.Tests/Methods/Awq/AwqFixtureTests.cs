using Optimizer.Domain.Methods.Quantize.Awq;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Awq;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Awq;

/// <summary>AWQ on the trained fixture model: with only ratio 0 and no clip it is plain AWQ rounding (ALGORITHMS.md 1.5 test 1).</summary>
public sealed class AwqFixtureTests
{
    [Fact]
    public async Task RunAsync_EqualsAwqRounding_WhenOnlyRatioZeroIsTriedAndClipIsOff()
    {
        var ct = TestContext.Current.CancellationToken;
        using var measurement = new FixtureMeasurement();
        var (_, outputDir) = await measurement.RunOnlyAsync("quantize", "awq",
            (context, token) => new AwqPipeline(FixedDatasetText.MobyDickCalibration()).RunAsync(context,
                new AwqOptions { Grid = 1, ClipSearch = false, CalibrationSamples = 4, SeqLen = 64 }, token), ct);

        using var quantized = ModelFolder.Open(outputDir, [new AwqPackedWeightReader()]);
        using var source = ModelFolder.Open(FixtureMeasurement.SourceDir);
        Assert.Equal("awq", quantized.Config.QuantizationConfig!["quant_method"]!.GetValue<string>());
        Assert.Equal("gemm", quantized.Config.QuantizationConfig!["version"]!.GetValue<string>());
        foreach (var name in new[] { "model.layers.0.self_attn.q_proj.weight", "model.layers.3.mlp.down_proj.weight" })
        {
            using var original = source.ReadWeight(name);
            using var expected = AwqRounding(original, new AwqQuantizer(4, 128));
            using var actual = quantized.ReadWeight(name);
            TensorAssert.Equal(expected, actual);
        }
        using var norm = quantized.ReadWeight("model.layers.1.input_layernorm.weight");
        using var sourceNorm = source.ReadWeight("model.layers.1.input_layernorm.weight");
        TensorAssert.Equal(sourceNorm, norm);
    }

    /// <summary>AWQ's rounding of <paramref name="weight"/> through the packed format (float16 scales), as the reader sees it.</summary>
    private static Tensor AwqRounding(Tensor weight, AwqQuantizer quantizer)
    {
        using var scope = torch.NewDisposeScope();
        var rows = (int)weight.shape[0];
        var columns = (int)weight.shape[1];
        var (codes, scales, zeros) = quantizer.Encode(weight);
        var linear = AwqLinear.Pack(codes.to(ScalarType.Byte).data<byte>().ToArray(), scales.contiguous().data<float>().ToArray(),
            zeros.to(ScalarType.Int32).data<int>().ToArray(), rows, columns, quantizer.GroupSize);
        var dense = new float[rows * columns];
        linear.Dequantize(dense);
        return torch.tensor(dense, [rows, columns]).MoveToOuterDisposeScope();
    }
}
