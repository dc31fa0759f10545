using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling.Architectures.Bert;

/// <summary>Word + absolute position + token type embeddings, then LayerNorm (Hugging Face <c>BertEmbeddings</c>).</summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    public BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        WordEmbeddings = nn.Embedding(config.VocabSize, config.HiddenSize);
        PositionEmbeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        TokenTypeEmbeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        register_module("word_embeddings", WordEmbeddings);
        register_module("position_embeddings", PositionEmbeddings);
        register_module("token_type_embeddings", TokenTypeEmbeddings);
        register_module("LayerNorm", LayerNorm);
    }

    public Embedding WordEmbeddings { get; }
    public Embedding PositionEmbeddings { get; }
    public Embedding TokenTypeEmbeddings { get; }
    public LayerNorm LayerNorm { get; }

    /// <param name="inputIds">[B, T] int64</param>
    /// <param name="tokenTypeIds">[B, T] int64 (zeros for single sentences)</param>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        using var scope = torch.NewDisposeScope();
        var positions = torch.arange(inputIds.shape[1], dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        var sum = WordEmbeddings.forward(inputIds) + PositionEmbeddings.forward(positions) + TokenTypeEmbeddings.forward(tokenTypeIds);
        return LayerNorm.forward(sum).MoveToOuterDisposeScope();
    }
}
