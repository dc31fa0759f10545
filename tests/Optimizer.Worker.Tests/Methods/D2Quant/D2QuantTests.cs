using Optimizer.Worker.Methods.Quantize.Awq;
using Optimizer.Worker.Methods.Quantize.D2Quant;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Methods.D2Quant;

/// <summary>ALGORITHMS.md 1.9 (D²Quant) invariants on a tiny random Llama block.</summary>
public sealed class D2QuantTests
{
    [Fact]
    public void Fold_LeavesFullPrecisionOutputsUnchanged_BeforeQuantization()
    {
        using var model = RandomModel();
        var mlp = model.Model.Layers[0].Mlp;
        using var input = torch.randn([3, 7, 32], generator: Seed(2));
        using var before = mlp.forward(input);
        using var scale = torch.rand([48], generator: Seed(3)) * 4 + 0.1;

        DualScale.Fold(mlp.UpProj, mlp.DownProj, scale);

        using var after = mlp.forward(input);
        Assert.True((before - after).abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void Search_ReturnsOnes_WhenGridIsOne_AndNeverScoresWorseThanPlainRounding()
    {
        using var weight = torch.randn([16, 64], generator: Seed(4));
        using var x = torch.randn([256, 64], generator: Seed(5)) * torch.linspace(0.05, 5, 64);
        using var hessian = x.t().matmul(x);
        var quantizer = new AwqQuantizer(2, 16);

        using var plain = DualScale.Search(weight, hessian, quantizer.Quantize, 1);
        using var searched = DualScale.Search(weight, hessian, quantizer.Quantize, 20);

        Assert.Equal(64, plain.eq(1f).sum().item<long>());
        Assert.True(Error(weight, hessian, quantizer, searched) <= Error(weight, hessian, quantizer, plain));
    }

    [Fact]
    public void Apply_MakesTheCorrectedCalibrationMeanEqualTheFullPrecisionMean()
    {
        using var model = RandomModel();
        var layer = model.Model.Layers[0];
        var (cos, sin) = model.Model.RotaryTables(9, torch.CPU);
        using var noGrad = torch.no_grad();
        List<Tensor> inputs = [torch.randn([2, 9, 32], generator: Seed(6)), torch.randn([3, 9, 32], generator: Seed(7))];
        using var fullPrecisionMean = DeviationCorrection.MeanOutput(layer, inputs, cos, sin);
        // Stand-in for quantization: coarse rounding of every linear moves the block's mean output.
        foreach (var (name, parameter) in layer.named_parameters().Where(p => !p.name.Contains("norm")))
        {
            parameter.copy_((parameter * 2).round() / 2);
        }
        using var shifted = DeviationCorrection.MeanOutput(layer, inputs, cos, sin);
        Assert.True((shifted - fullPrecisionMean).abs().max().item<double>() > 1e-3);

        using var deviation = DeviationCorrection.Apply(layer, fullPrecisionMean, inputs, cos, sin);

        using var corrected = DeviationCorrection.MeanOutput(layer, inputs, cos, sin);
        // Float tolerance: the outputs are float32, so relative to the largest mean entry.
        var scale = 1 + fullPrecisionMean.abs().max().item<double>();
        var remaining = (corrected - fullPrecisionMean).abs().max().item<double>();
        var removed = (shifted - fullPrecisionMean).abs().max().item<double>();
        Assert.True(remaining < 1e-5 * scale, $"remaining deviation {remaining} (scale {scale}, before {removed})");
        Assert.NotNull(layer.Mlp.DownProj.bias);
    }

    [Fact]
    public void AddDownProjBias_ShiftsTheMlpOutputByTheBias()
    {
        using var model = RandomModel();
        var mlp = model.Model.Layers[0].Mlp;
        using var noGrad = torch.no_grad();
        using var input = torch.randn([2, 5, 32], generator: Seed(8));
        using var before = mlp.forward(input);

        using (torch.NewDisposeScope())
        {
            // Created inside a caller's dispose scope, the bias must outlive it.
            mlp.AddDownProjBias().add_(torch.linspace(-1, 1, 32));
        }

        using var after = mlp.forward(input);
        var shift = after - before;
        using var expected = torch.linspace(-1, 1, 32);
        Assert.True((shift - expected).abs().max().item<float>() < 1e-4);
    }

    private static double Error(Tensor weight, Tensor hessian, AwqQuantizer quantizer, Tensor scale)
    {
        using var scope = torch.NewDisposeScope();
        var delta = quantizer.Quantize(weight / scale) * scale - weight;
        return (delta.matmul(hessian) * delta).sum().item<float>();
    }

    private static Generator Seed(int seed) => new((ulong)seed);

    private static LlamaForCausalLM RandomModel()
    {
        torch.manual_seed(11);
        var model = new LlamaForCausalLM(new LlamaConfig
        {
            VocabSize = 53,
            HiddenSize = 32,
            IntermediateSize = 48,
            NumHiddenLayers = 1,
            NumAttentionHeads = 4,
            NumKeyValueHeads = 2,
            HeadDim = 8,
            MaxPositionEmbeddings = 64,
            RmsNormEps = 1e-5,
            RopeTheta = 500,
            TieWordEmbeddings = true,
        });
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            using var noise = torch.randn(parameter.shape) * 0.3;
            parameter.copy_(name.Contains("norm") ? noise + 1 : noise);
        }
        return model;
    }
}
