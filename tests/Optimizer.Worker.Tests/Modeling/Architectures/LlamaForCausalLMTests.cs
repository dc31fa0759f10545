using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Modeling.Architectures;

public sealed class LlamaForCausalLMTests
{
    private static LlamaConfig TinyConfig(bool tied) => new()
    {
        VocabSize = 53,
        HiddenSize = 32,
        IntermediateSize = 48,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        HeadDim = 8,
        MaxPositionEmbeddings = 64,
        RmsNormEps = 1e-5,
        RopeTheta = 500,
        TieWordEmbeddings = tied,
        BosTokenId = 0,
        EosTokenId = 1,
    };

    private static LlamaForCausalLM RandomModel(LlamaConfig config)
    {
        torch.manual_seed(7);
        var model = new LlamaForCausalLM(config);
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            // Norm weights start at one; randomise them too so a swapped norm would show.
            using var noise = torch.randn(parameter.shape) * (name.EndsWith("layernorm.weight") || name == "model.norm.weight" ? 0.3 : 0.5);
            parameter.copy_(name.Contains("norm") ? noise + 1 : noise);
        }
        return model;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_MatchesDoubleLoopReference_OnTinyGqaConfig(bool tied)
    {
        var config = TinyConfig(tied);
        using var directory = new TempDirectory();
        using var model = RandomModel(config);
        model.SaveTo(directory.Path);
        long[][] sequences = [[3, 17, 52, 0, 9, 9, 41], [5, 1, 2, 30, 44, 7, 12]];
        using var input = torch.tensor(sequences.SelectMany(s => s).ToArray(), [2, 7], dtype: ScalarType.Int64);

        using var noGrad = torch.no_grad();
        using var logits = model.forward(input);
        using var weights = SafetensorsFile.Open(Path.Combine(directory.Path, "model.safetensors"));
        var reference = new LlamaReference(config, weights);

        Assert.Equal(new long[] { 2, 7, 53 }, logits.shape);
        Assert.Equal(ScalarType.Float32, logits.dtype);
        var actual = logits.data<float>().ToArray();
        var maxError = 0.0;
        for (var b = 0; b < 2; b++)
        {
            var expected = reference.Forward(sequences[b]);
            for (var t = 0; t < 7; t++)
            {
                for (var v = 0; v < 53; v++)
                {
                    maxError = Math.Max(maxError, Math.Abs(expected[t][v] - actual[(b * 7 + t) * 53 + v]));
                }
            }
        }
        Assert.True(maxError < 1e-4, $"max |logit error| = {maxError}");
    }

    [Fact]
    public void FromFolder_ReproducesLogits_AfterSaveTo()
    {
        var config = TinyConfig(tied: true);
        using var directory = new TempDirectory();
        using var model = RandomModel(config);
        model.SaveTo(directory.Path);
        using var input = torch.tensor(new long[] { 4, 8, 15, 16, 23, 42 }, [1, 6], dtype: ScalarType.Int64);

        using var folder = ModelFolder.Open(directory.Path);
        using var loaded = LlamaForCausalLM.FromFolder(folder);
        using var noGrad = torch.no_grad();
        using var expected = model.forward(input);
        using var actual = loaded.forward(input);

        TensorAssert.Equal(expected, actual);
        Assert.Equal(["LlamaForCausalLM"], folder.Config.Architectures);
        Assert.DoesNotContain("lm_head.weight", folder.TensorNames);
        Assert.Contains("model.layers.1.self_attn.k_proj.weight", folder.TensorNames);
        Assert.Equal(new long[] { 16, 32 }, folder.GetEntry("model.layers.1.self_attn.k_proj.weight").Shape);
    }

    [Fact]
    public void Forward_IsCausal_WhenLaterTokensChange()
    {
        using var model = RandomModel(TinyConfig(tied: false));
        using var first = torch.tensor(new long[] { 1, 2, 3, 4 }, [1, 4], dtype: ScalarType.Int64);
        using var second = torch.tensor(new long[] { 1, 2, 9, 9 }, [1, 4], dtype: ScalarType.Int64);

        using var noGrad = torch.no_grad();
        using var a = model.forward(first);
        using var b = model.forward(second);
        using var prefixA = a.narrow(1, 0, 2);
        using var prefixB = b.narrow(1, 0, 2);
        using var lastA = a.narrow(1, 3, 1);
        using var lastB = b.narrow(1, 3, 1);

        Assert.True(torch.allclose(prefixA, prefixB, rtol: 0, atol: 1e-6));
        Assert.False(torch.allclose(lastA, lastB, rtol: 0, atol: 1e-3));
    }
}
