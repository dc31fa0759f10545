using Optimizer.Worker.Fixtures;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Bert;
using Optimizer.Worker.Modeling.Onnx;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Modeling.Architectures.Bert;

public sealed class MiniLmImportTests
{
    [Fact]
    public void MapWeights_NamesEveryLinearOfEveryLayer_WhenGraphIsFollowed()
    {
        var package = MiniLmPackage.Load();
        var weights = MiniLmImporter.MapWeights(OnnxGraph.Parse(package.Model));

        string[] linears = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"];
        for (var layer = 0; layer < 6; layer++)
        {
            foreach (var linear in linears)
            {
                var (tensor, transposed) = weights[$"encoder.layer.{layer}.{linear}.weight"];
                Assert.True(transposed);
                // Stored [in, out]: the bias length is the second dimension.
                Assert.Equal(weights[$"encoder.layer.{layer}.{linear}.bias"].Tensor.Dims[0], tensor.Dims[1]);
            }
        }
        Assert.DoesNotContain(weights.Keys, k => k.StartsWith("onnx::", StringComparison.Ordinal) || char.IsDigit(k[0]));
    }

    [Fact]
    public void Import_WritesHuggingFaceBertFolder_WithMiniLmShapes()
    {
        using var folder = ModelFolder.Open(MiniLm.ModelDir);
        var config = BertConfig.FromHf(folder.Config);

        Assert.Equal(["BertModel"], folder.Config.Architectures);
        Assert.Equal((6, 384, 12, 1536, 30522), (config.NumHiddenLayers, config.HiddenSize, config.NumAttentionHeads, config.IntermediateSize, config.VocabSize));
        Assert.Equal(1e-12, config.LayerNormEps);
        Assert.Equal([1536L, 384L], folder.GetEntry("encoder.layer.3.intermediate.dense.weight").Shape);
        Assert.Equal([384L, 1536L], folder.GetEntry("encoder.layer.3.output.dense.weight").Shape);
        var parameters = folder.TensorNames.Sum(n => folder.GetEntry(n).ElementCount);
        Assert.InRange(parameters, 22_600_000, 22_800_000);
        Assert.Equal(30522, File.ReadLines(Path.Combine(MiniLm.ModelDir, "vocab.txt")).Count());
    }

    [Fact]
    public void Tokenize_GivesBertUncasedIds_ForPlainSentence()
    {
        var (tokenizer, maxTokens) = SentenceEncoder.LoadTokenizer(MiniLm.ModelDir);

        // bert-base-uncased: [CLS] hello , world ! [SEP]
        Assert.Equal([101, 7592, 1010, 2088, 999, 102], tokenizer.EncodeToIds("Hello, World!"));
        Assert.Equal(256, maxTokens);
    }
}
