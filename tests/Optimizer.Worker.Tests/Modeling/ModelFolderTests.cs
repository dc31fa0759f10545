using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Modeling;

public sealed class ModelFolderTests
{
    private const string Config = """
        {"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":64,"intermediate_size":128,
         "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"rms_norm_eps":1e-05,
         "rope_theta":500000.0,"max_position_embeddings":256,"vocab_size":100,"tie_word_embeddings":true,
         "torch_dtype":"bfloat16","bos_token_id":1,"eos_token_id":[2,3],
         "quantization_config":{"quant_method":"gptq","bits":4,"group_size":128}}
        """;

    private sealed class FakePackedReader : IPackedWeightReader
    {
        public bool TryRead(ModelFolder folder, string weightName, [NotNullWhen(true)] out Tensor? weight)
        {
            var packed = weightName.Replace(".weight", ".qweight");
            weight = folder.ContainsTensor(packed) ? folder.ReadTensor(packed).to(ScalarType.Float32) * 2 : null;
            return weight is not null;
        }
    }

    [Fact]
    public void Open_ParsesConfig_WhenConfigHasLlamaFields()
    {
        using var directory = new TempDirectory();
        File.WriteAllText(directory.File("config.json"), Config);
        using var tensor = torch.ones(2);
        new SafetensorsWriter().Add("a", tensor).Save(directory.File("model.safetensors"));

        using var folder = ModelFolder.Open(directory.Path);
        var llama = LlamaConfig.FromHf(folder.Config);

        Assert.Equal(["LlamaForCausalLM"], folder.Config.Architectures);
        Assert.Equal("gptq", folder.Config.QuantizationConfig?["quant_method"]?.GetValue<string>());
        Assert.Equal([2, 3], folder.Config.EosTokenIds);
        Assert.Equal(16, llama.HeadDim);
        Assert.Equal(2, llama.NumKeyValueHeads);
        Assert.Equal(500000.0, llama.RopeTheta);
        Assert.Equal(1e-5, llama.RmsNormEps);
        Assert.True(llama.TieWordEmbeddings);
        Assert.Equal("bfloat16", llama.TorchDtype);
    }

    [Fact]
    public void ReadTensor_FindsTensorsAcrossShards_WhenIndexListsThem()
    {
        using var directory = new TempDirectory();
        File.WriteAllText(directory.File("config.json"), Config);
        using var first = torch.arange(4, dtype: ScalarType.Float32);
        using var second = torch.arange(6, dtype: ScalarType.Int64);
        new SafetensorsWriter().Add("layer.0.weight", first).Save(directory.File("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().Add("layer.1.weight", second).Save(directory.File("model-00002-of-00002.safetensors"));
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = 64 },
            ["weight_map"] = new JsonObject
            {
                ["layer.0.weight"] = "model-00001-of-00002.safetensors",
                ["layer.1.weight"] = "model-00002-of-00002.safetensors",
            },
        };
        File.WriteAllText(directory.File("model.safetensors.index.json"), index.ToJsonString());

        using var folder = ModelFolder.Open(directory.Path);
        using var read = folder.ReadTensor("layer.1.weight");

        Assert.Equal(["layer.0.weight", "layer.1.weight"], folder.TensorNames);
        TensorAssert.Equal(second, read);
        Assert.Equal(2, folder.Files.Count);
    }

    [Fact]
    public void ReadWeight_AsksPackedReaders_WhenDenseWeightIsAbsent()
    {
        using var directory = new TempDirectory();
        File.WriteAllText(directory.File("config.json"), Config);
        using var dense = torch.ones(2, 2);
        using var packed = torch.full(3, 3, 5, dtype: ScalarType.Int32);
        new SafetensorsWriter().Add("a.weight", dense).Add("b.qweight", packed).Save(directory.File("model.safetensors"));

        using var folder = ModelFolder.Open(directory.Path, [new FakePackedReader()]);
        using var a = folder.ReadWeight("a.weight");
        using var b = folder.ReadWeight("b.weight");

        TensorAssert.Equal(dense, a);
        Assert.Equal(new long[] { 3, 3 }, b.shape);
        Assert.Equal(10f, b[0, 0].item<float>());
        Assert.Throws<KeyNotFoundException>(() => folder.ReadWeight("c.weight"));
        Assert.False(folder.HasWeight("c.weight"));
    }

    [Fact]
    public void Open_Throws_WhenConfigIsMissing()
    {
        using var directory = new TempDirectory();

        Assert.Throws<FileNotFoundException>(() => ModelFolder.Open(directory.Path));
    }
}
