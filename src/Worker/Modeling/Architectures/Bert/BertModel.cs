using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Bert;

/// <summary>
/// Hugging Face <c>BertModel</c> (the encoder of sentence-transformers models such as all-MiniLM-L6-v2) in
/// TorchSharp, with Hugging Face parameter names so weights load from safetensors without a mapping table.
/// </summary>
/// <remarks>
/// Computes in float32. The pooler (<c>pooler.dense.*</c>, a tanh projection of [CLS]) is not built: sentence
/// embeddings mean-pool the last hidden states, and tensors the module does not have are ignored on load.
/// </remarks>
public sealed class BertModel : nn.Module<Tensor, Tensor, Tensor>
{
    public BertModel(BertConfig config) : base(nameof(BertModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Embeddings = new BertEmbeddings(config);
        Encoder = new BertEncoder(config);
        register_module("embeddings", Embeddings);
        register_module("encoder", Encoder);
    }

    public BertConfig Config { get; }
    public BertEmbeddings Embeddings { get; }
    public BertEncoder Encoder { get; }

    /// <summary>Builds the model described by <paramref name="folder"/>'s config and loads its weights (dense or packed).</summary>
    public static BertModel FromFolder(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var model = new BertModel(BertConfig.FromHf(folder.Config));
        try
        {
            using var noGrad = torch.no_grad();
            foreach (var (name, parameter) in model.named_parameters())
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
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>input_ids and attention_mask [B, T] int64 (1 = token, 0 = padding) → last hidden states [B, T, hidden].</summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = torch.NewDisposeScope();
        var hidden = Embeddings.forward(inputIds, torch.zeros_like(inputIds));
        // Padding gets the most negative float, as Hugging Face's extended attention mask does.
        var additive = (1.0f - attentionMask.to(ScalarType.Float32)).mul(float.MinValue).view(inputIds.shape[0], 1, 1, inputIds.shape[1]);
        return Encoder.forward(hidden, additive.to(hidden.device)).MoveToOuterDisposeScope();
    }

    public long ParameterCount => parameters().Sum(p => p.numel());
}
