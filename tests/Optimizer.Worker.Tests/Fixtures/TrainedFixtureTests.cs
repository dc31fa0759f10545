using Microsoft.ML.Tokenizers;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Fixtures;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Modeling.Tokenization;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Fixtures;

/// <summary>Checks the trained fixture model that scripts/test builds (env OPTIMIZER_FIXTURE_DIR).</summary>
public sealed class TrainedFixtureTests : IDisposable
{
    private const int EndOfText = 50256;
    private readonly string _directory;
    private readonly ModelFolder _folder;
    private readonly LlamaForCausalLM _model;
    private readonly Tokenizer _tokenizer;

    public TrainedFixtureTests()
    {
        _directory = TestEnvironment.FixtureDir;
        _folder = ModelFolder.Open(Path.Combine(_directory, FixtureManifest.ModelFolderName));
        _model = LlamaForCausalLM.FromFolder(_folder);
        _tokenizer = TokenizerLoader.Load(_folder.Path);
    }

    [Fact]
    public void HeldOutPerplexity_MatchesManifest_AndIsFarBelowUnigramLevel()
    {
        var manifest = FixtureManifest.Load(_directory);
        var tokens = _tokenizer.EncodeToIds(File.ReadAllText(Path.Combine(_directory, FixtureManifest.HeldOutFileName)));

        var result = LanguageModelMetrics.Perplexity(_model, tokens, manifest.EvalSequenceLength,
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(manifest.HeldOutTokens, tokens.Count);
        Assert.Equal(manifest.EvalWindows, result.Windows);
        Assert.True(Math.Abs(result.Perplexity / manifest.HeldOutPerplexity - 1) < 1e-3,
            $"recomputed {result.Perplexity}, fixture.json says {manifest.HeldOutPerplexity}");
        Assert.True(result.Perplexity < 1000, $"held-out perplexity {result.Perplexity} is not far below the vocabulary size");
    }

    [Fact]
    public void GreedyGeneration_ProducesValidGpt2Tokens_FromCallMe()
    {
        var prompt = _tokenizer.EncodeToIds("Call me");

        var generated = GreedyDecoder.Generate(_model, prompt, maxNewTokens: 16, endOfSequenceId: EndOfText);
        var text = _tokenizer.Decode(generated);

        Assert.Equal([14134, 502], prompt);
        Assert.NotEmpty(generated);
        Assert.All(generated, id => Assert.InRange(id, 0, EndOfText));
        Assert.False(string.IsNullOrWhiteSpace(text), "the continuation decodes to nothing");
    }

    [Fact]
    public void ModelFolder_IsInHuggingFaceLayout_WithFloat32TiedLlama()
    {
        var config = _folder.Config;
        var llama = LlamaConfig.FromHf(config);

        Assert.Equal(["LlamaForCausalLM"], config.Architectures);
        Assert.Equal("llama", config.ModelType);
        Assert.Equal("float32", config.TorchDtype);
        Assert.Equal(EndOfText, config.BosTokenId);
        Assert.Equal([EndOfText], config.EosTokenIds);
        Assert.Equal(50257, llama.VocabSize);
        Assert.True(llama.TieWordEmbeddings);
        Assert.Equal(0, llama.HiddenSize % 128);
        Assert.Equal(0, llama.IntermediateSize % 128);
        Assert.All(_folder.TensorNames, name => Assert.Equal(SafetensorsDtype.F32, _folder.GetEntry(name).Dtype));
        foreach (var file in new[] { "vocab.json", "merges.txt", "tokenizer_config.json", "generation_config.json" })
        {
            Assert.True(File.Exists(Path.Combine(_folder.Path, file)), $"{file} is missing from the fixture model");
        }
    }

    public void Dispose()
    {
        _model.Dispose();
        _folder.Dispose();
    }
}
