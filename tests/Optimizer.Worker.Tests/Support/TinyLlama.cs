using System.Text.Json.Nodes;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Tests.Support;

/// <summary>A tiny random Llama checkpoint in Hugging Face layout (mergekit's "pico" models idea).</summary>
public static class TinyLlama
{
    public const int Hidden = 64;
    public const int Intermediate = 128;
    public const int Layers = 2;
    public const int Vocab = 96;

    public static readonly string[] LinearNames =
        ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];

    /// <summary>
    /// Writes config.json, model.safetensors and a tokenizer side file into <paramref name="dir"/>: <paramref name="layers"/>
    /// decoder blocks (default <see cref="Layers"/>).
    /// </summary>
    public static void Write(string dir, ScalarType dtype = ScalarType.Float16, int seed = 7, int vocab = Vocab, string? gpt2TokenizerDir = null,
        int layers = Layers)
    {
        Directory.CreateDirectory(dir);
        var generator = new torch.Generator((ulong)seed);
        var tensors = new List<Tensor>();
        var writer = new SafetensorsWriter();
        void Add(string name, long[] shape, double std)
        {
            using var normal = torch.randn(shape, generator: generator) * std;
            var tensor = normal.to_type(dtype);
            tensors.Add(tensor);
            writer.Add(name, tensor);
        }
        Add("model.embed_tokens.weight", [vocab, Hidden], 0.5);
        for (var layer = 0; layer < layers; layer++)
        {
            var prefix = $"model.layers.{layer}.";
            Add(prefix + "self_attn.q_proj.weight", [Hidden, Hidden], 0.1);
            Add(prefix + "self_attn.k_proj.weight", [Hidden, Hidden], 0.1);
            Add(prefix + "self_attn.v_proj.weight", [Hidden, Hidden], 0.1);
            Add(prefix + "self_attn.o_proj.weight", [Hidden, Hidden], 0.1);
            Add(prefix + "mlp.gate_proj.weight", [Intermediate, Hidden], 0.1);
            Add(prefix + "mlp.up_proj.weight", [Intermediate, Hidden], 0.1);
            Add(prefix + "mlp.down_proj.weight", [Hidden, Intermediate], 0.1);
            var ones = torch.ones([Hidden], dtype);
            tensors.Add(ones);
            writer.Add(prefix + "input_layernorm.weight", ones);
            var ones2 = torch.ones([Hidden], dtype);
            tensors.Add(ones2);
            writer.Add(prefix + "post_attention_layernorm.weight", ones2);
        }
        var norm = torch.ones([Hidden], dtype);
        tensors.Add(norm);
        writer.Add("model.norm.weight", norm);
        Add("lm_head.weight", [vocab, Hidden], 0.1);
        writer.Save(Path.Combine(dir, "model.safetensors"));
        tensors.ForEach(t => t.Dispose());

        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["hidden_size"] = Hidden,
            ["intermediate_size"] = Intermediate,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = 4,
            ["vocab_size"] = vocab,
            ["max_position_embeddings"] = 128,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = dtype == ScalarType.Float16 ? "float16" : "float32",
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"model_max_length\": 128}");
        if (gpt2TokenizerDir is not null)
        {
            Optimizer.Worker.Modeling.Tokenization.TokenizerLoader.CopyGpt2Files(gpt2TokenizerDir, dir);
        }
    }
}
