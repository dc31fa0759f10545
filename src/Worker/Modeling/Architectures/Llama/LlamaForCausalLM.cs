using Optimizer.Worker.Modeling.Architectures.Monarch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Llama;

/// <summary>
/// Hugging Face <c>LlamaForCausalLM</c> in TorchSharp (also fits Mistral / Qwen2-shaped checkpoints without
/// biases). Parameter names are the Hugging Face tensor names, so weights load from and save to
/// safetensors without a mapping table.
/// </summary>
/// <remarks>
/// Computes in float32 whatever the stored dtype. With <c>tie_word_embeddings</c> the output projection is the
/// embedding matrix and no <c>lm_head.weight</c> parameter exists (Hugging Face omits it from the file too).
/// </remarks>
public sealed class LlamaForCausalLM : nn.Module<Tensor, Tensor>
{
    public const string Architecture = "LlamaForCausalLM";

    public LlamaForCausalLM(LlamaConfig config) : base(nameof(LlamaForCausalLM))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Model = new LlamaModel(config);
        register_module("model", Model);
        if (!config.TieWordEmbeddings)
        {
            LmHead = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
            register_module("lm_head", LmHead);
        }
    }

    public LlamaConfig Config { get; }
    public LlamaModel Model { get; }
    /// <summary>The output projection, or null when it is tied to the embeddings.</summary>
    public Linear? LmHead { get; }

    /// <summary>Builds the model described by <paramref name="folder"/>'s config and loads its weights through <see cref="ModelFolder.ReadWeight"/>.</summary>
    /// <param name="folder">The checkpoint.</param>
    /// <param name="projection">
    /// Optional: a module to run in place of a decoder projection, given its prefix (<c>model.layers.0.mlp.up_proj</c>), or
    /// null to keep it dense — e.g. a kernel linear that multiplies the stored low-bit weight (Inference/KernelModel). The
    /// module's own parameters (a bias) load by name like the rest.
    /// </param>
    public static LlamaForCausalLM FromFolder(ModelFolder folder, Func<string, nn.Module<Tensor, Tensor>?>? projection = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var model = new LlamaForCausalLM(LlamaConfig.FromHf(folder.Config));
        try
        {
            // Linears stored as Monarch factors run factored (docs/formats/monarch.md).
            MonarchConfig.From(folder.Config)?.Apply(model);
            foreach (var prefix in projection is null ? [] : LlamaProjections.Prefixes(model).ToList())
            {
                if (projection!(prefix) is { } module)
                {
                    LlamaProjections.Use(model, prefix, module);
                }
            }
            // Optional down_proj biases (D²Quant's deviation correction): present in the folder → a parameter to load.
            for (var i = 0; i < model.Model.Layers.Count; i++)
            {
                if (folder.ContainsTensor($"model.layers.{i}.mlp.down_proj.bias"))
                {
                    model.Model.Layers[i].Mlp.AddDownProjBias();
                }
            }
            model.LoadWeights(folder);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Copies every parameter from the folder (converted to float32); throws on a missing weight or a shape mismatch.</summary>
    public void LoadWeights(ModelFolder folder)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            using var scope = torch.NewDisposeScope();
            var weight = folder.ReadWeight(name);
            if (!weight.shape.SequenceEqual(parameter.shape))
            {
                throw new InvalidDataException(
                    $"weight '{name}' has shape [{string.Join(", ", weight.shape)}], the config needs [{string.Join(", ", parameter.shape)}]");
            }
            parameter.copy_(weight.to(parameter.dtype));
        }
    }

    /// <summary>input_ids [B, T] int64 → logits [B, T, vocab] float32.</summary>
    public override Tensor forward(Tensor inputIds)
    {
        using var scope = torch.NewDisposeScope();
        var hidden = Model.forward(inputIds);
        var logits = LmHead is null
            ? nn.functional.linear(hidden, Model.EmbedTokens.weight!)
            : LmHead.forward(hidden);
        return logits.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Writes <c>config.json</c> and <c>model.safetensors</c> (float32, Hugging Face names) into
    /// <paramref name="directory"/>; tokenizer and generation files are the caller's.
    /// </summary>
    public void SaveTo(string directory)
    {
        Directory.CreateDirectory(directory);
        var config = Config with { TorchDtype = "float32" };
        File.WriteAllText(Path.Combine(directory, ModelFolder.ConfigFileName), config.ToJsonString());
        var writer = new SafetensorsWriter();
        var parameters = named_parameters().ToList();
        foreach (var (name, parameter) in parameters)
        {
            writer.Add(name, parameter);
        }
        writer.Save(Path.Combine(directory, ModelFolder.SingleFileName));
    }

    /// <summary>Total number of parameters (tied embeddings counted once).</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());
}
