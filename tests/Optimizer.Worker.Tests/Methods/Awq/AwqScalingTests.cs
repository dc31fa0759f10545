using Optimizer.Worker.Calibration;
using Optimizer.Worker.Methods.Quantize.Awq;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.Awq;

/// <summary>ALGORITHMS.md 1.5 invariants: folding is function-preserving; scales are normalised; ratio 0 is plain rounding.</summary>
public sealed class AwqScalingTests
{
    [Theory]
    [InlineData(BlockInput.Attention)]
    [InlineData(BlockInput.AttentionOutput)]
    [InlineData(BlockInput.Mlp)]
    [InlineData(BlockInput.MlpHidden)]
    public void Fold_LeavesTheBlockOutputUnchanged_BeforeQuantization(BlockInput group)
    {
        using var layer = RandomLayer(out var config);
        using var noGrad = torch.no_grad();
        var (cos, sin) = LlamaRotaryEmbedding.Compute(10, config.HeadDim, config.RopeTheta);
        using var hidden = torch.randn([2, 10, config.HiddenSize], generator: new torch.Generator(9));
        using var before = layer.forward(hidden, cos, sin);
        var features = AwqScaling.Scaled(layer, group)[0].weight!.shape[1];
        using var scales = torch.rand([features], generator: new torch.Generator(10)) * 3 + 0.2;

        Assert.True(AwqScaling.CanFold(layer, group));
        AwqScaling.Fold(layer, group, scales);
        using var after = layer.forward(hidden, cos, sin);

        Assert.True(after.allclose(before, rtol: 1e-5, atol: 1e-5), $"folding {group} changed the block output");
    }

    [Fact]
    public void CanFold_RefusesVToO_UnderGroupedQueryAttention()
    {
        using var layer = RandomLayer(out _, keyValueHeads: 2);
        Assert.False(AwqScaling.CanFold(layer, BlockInput.AttentionOutput));
        Assert.True(AwqScaling.CanFold(layer, BlockInput.Attention));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(20)]
    public void Scales_AreNormalisedAndRestoreTheWeights_AndRatioZeroIsOne(int grid)
    {
        using var layer = RandomLayer(out var config);
        using var noGrad = torch.no_grad();
        var (cos, sin) = LlamaRotaryEmbedding.Compute(10, config.HeadDim, config.RopeTheta);
        using var x = torch.randn([3, 10, config.HiddenSize], generator: new torch.Generator(12)) * torch.linspace(0.1, 4, config.HiddenSize);
        using var gate = layer.Mlp.GateProj.weight!.clone();

        var (scales, loss) = AwqSearch.Scales(layer, BlockInput.Mlp, [x], new AwqQuantizer(4, 16), grid, cos, sin);
        using (scales)
        {
            Assert.Equal([config.HiddenSize], scales.shape);
            Assert.Equal(1.0, (scales.max() * scales.min()).item<float>(), 4);
            Assert.True(layer.Mlp.GateProj.weight!.equal(gate).all().item<bool>(), "search must restore the weights");
            Assert.True(loss >= 0);
            if (grid == 1)
            {
                Assert.True(scales.eq(1).all().item<bool>(), "ratio 0 gives s = 1 (plain rounding)");
            }
        }
    }

    [Fact]
    public void Clip_NeverWidensTheRange_AndKeepsWeightsWithinTheirGroupMax()
    {
        using var weight = torch.randn([8, 32], generator: new torch.Generator(13));
        using var original = weight.clone();
        using var x = torch.randn([100, 32], generator: new torch.Generator(14));

        AwqSearch.Clip(weight, x, new AwqQuantizer(3, 16));

        using var originalMax = original.reshape(8, 2, 16).abs().amax([-1]);
        using var clippedMax = weight.reshape(8, 2, 16).abs().amax([-1]);
        Assert.True(clippedMax.le(originalMax).all().item<bool>());
        Assert.True(clippedMax.ge(originalMax * 0.5).all().item<bool>(), "shrink stops at max_shrink 0.5");
    }

    private static LlamaDecoderLayer RandomLayer(out LlamaConfig config, int keyValueHeads = 4)
    {
        config = new LlamaConfig
        {
            VocabSize = 16,
            HiddenSize = 32,
            IntermediateSize = 48,
            NumHiddenLayers = 1,
            NumAttentionHeads = 4,
            NumKeyValueHeads = keyValueHeads,
            HeadDim = 8,
            MaxPositionEmbeddings = 64,
            RmsNormEps = 1e-5,
            RopeTheta = 500,
        };
        torch.manual_seed(8);
        var layer = new LlamaDecoderLayer(config);
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in layer.named_parameters())
        {
            using var noise = torch.randn(parameter.shape) * 0.3;
            parameter.copy_(name.Contains("norm") ? noise + 1 : noise);
        }
        return layer;
    }
}
