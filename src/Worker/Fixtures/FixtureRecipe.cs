using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Optimizer.Domain.Common;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Fixtures;

/// <summary>
/// Everything that determines the trained fixture model. Its <see cref="Hash"/> names the cache folder, so
/// any change here, in <see cref="CodeVersion"/>, in the corpus split or in the data yields a new fixture.
/// </summary>
public sealed record FixtureRecipe
{
    /// <summary>Bump when the training code changes in a way that changes the weights.</summary>
    public const string CodeVersion = "fixture-trainer/v1";

    public string Code { get; init; } = CodeVersion;
    public int Seed { get; init; } = 20261127;
    public int Threads { get; init; } = 2;
    public int VocabSize { get; init; } = 50257;
    public int HiddenSize { get; init; } = 128;
    public int IntermediateSize { get; init; } = 384;
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 4;
    public int KeyValueHeads { get; init; } = 2;
    public int MaxPositionEmbeddings { get; init; } = 256;
    public double RopeTheta { get; init; } = 10000;
    public double RmsNormEps { get; init; } = 1e-5;
    public int EndOfTextTokenId { get; init; } = 50256;
    public int SequenceLength { get; init; } = 256;
    public int BatchSize { get; init; } = 4;
    public int Steps { get; init; } = 400;
    public int WarmupSteps { get; init; } = 20;
    public double PeakLearningRate { get; init; } = 3e-3;
    public double MinLearningRateRatio { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.01;
    public double GradientClip { get; init; } = 1.0;
    public double InitStd { get; init; } = 0.02;
    public int EvalSequenceLength { get; init; } = 256;
    /// <summary>The corpus split id (<see cref="Modeling.Corpora.MobyDickCorpus.SplitId"/>).</summary>
    public string CorpusSplit { get; init; } = "";
    /// <summary>SHA-256 of the training text and tokenizer files, so changed inputs never reuse a fixture.</summary>
    public string DataDigest { get; init; } = "";

    /// <summary>
    /// When true, the GPT-2 ids are remapped to the <see cref="VocabSize"/> − 1 most frequent training ids plus one unknown
    /// id (<see cref="Modeling.Tokenization.TokenIdMap"/>, saved in the model folder). Omitted from the JSON when false, so
    /// the test fixture's hash is unchanged.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool CompactVocabulary { get; init; }

    /// <summary>
    /// The bench-only fixture (<c>bench/run quantize</c>): compact vocabulary, hidden 256, 6 layers, intermediate 2.5×, so
    /// the decoder linears hold most of the weights and low-bit differences show. Never trained by <c>scripts/test</c>.
    /// </summary>
    public static FixtureRecipe Bench { get; } = new()
    {
        CompactVocabulary = true,
        VocabSize = 4096,
        EndOfTextTokenId = 4095,
        HiddenSize = 256,
        // 2.5×, a multiple of 128: every linear's input must split into groups of 128 and 3-bit GPTQ packing needs
        // in·3 and out·3 divisible by 32 (688, Llama's usual 2.7× rounding, left down_proj and at 3 bits gate/up unquantized).
        IntermediateSize = 640,
        Layers = 6,
        Heads = 4,
        KeyValueHeads = 2,
        // One thread: on a shared 2-core machine two OpenMP threads mostly wait for each other.
        Threads = 1,
        Steps = 300,
        WarmupSteps = 20,
    };

    public LlamaConfig ToLlamaConfig() => new()
    {
        VocabSize = VocabSize,
        HiddenSize = HiddenSize,
        IntermediateSize = IntermediateSize,
        NumHiddenLayers = Layers,
        NumAttentionHeads = Heads,
        NumKeyValueHeads = KeyValueHeads,
        HeadDim = HiddenSize / Heads,
        MaxPositionEmbeddings = MaxPositionEmbeddings,
        RmsNormEps = RmsNormEps,
        RopeTheta = RopeTheta,
        TieWordEmbeddings = true,
        TorchDtype = "float32",
        BosTokenId = EndOfTextTokenId,
        EosTokenId = EndOfTextTokenId,
    };

    public string ToJson() => JsonSerializer.Serialize(this, OptimizerJson.Options);

    /// <summary>First 16 hex digits of SHA-256 over the recipe's JSON.</summary>
    public string Hash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToJson())))[..16];

    /// <summary>SHA-256 over the given texts and files, in order.</summary>
    public static string Digest(IEnumerable<string> texts, IEnumerable<string> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var text in texts)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(text));
        }
        foreach (var file in files)
        {
            sha.AppendData(File.ReadAllBytes(file));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
