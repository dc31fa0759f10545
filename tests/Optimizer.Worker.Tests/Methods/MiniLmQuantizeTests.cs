using Microsoft.Extensions.Logging.Abstractions;
using Optimizer.Domain.Jobs;
using Optimizer.Domain.Methods.Evaluate.Standard;
using Optimizer.Domain.Methods.Quantize.Fp8;
using Optimizer.Domain.Methods.Quantize.Rtn;
using Optimizer.Domain.Models;
using Optimizer.Worker.Evaluation;
using Optimizer.Worker.Evaluation.Encoders;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Fp8;
using Optimizer.Worker.Methods.Quantize.Rtn;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Tests.Support;

namespace Optimizer.Worker.Tests.Methods;

/// <summary>Weight-only methods on the pretrained encoder, measured by its sentence embeddings against the original's.</summary>
public sealed class MiniLmQuantizeTests(ITestOutputHelper output)
{
    private const int SentenceCount = 64;

    /// <remarks>
    /// 8-bit (RTN, FP8) must meet the Part B 8-bit default (0.99). RTN at 4 bits loses more than the 0.97 default on
    /// this 22 M-parameter model (about 0.95 at g = 128, measured), so those cases check a floor that still means
    /// "close to the original" and that a smaller group helps; the report's critical item is what flags them.
    /// </remarks>
    [Theory]
    [InlineData("rtn", 8, 128, 0.99)]
    [InlineData("rtn", 4, 128, 0.93)]
    [InlineData("rtn", 4, 32, 0.95)]
    [InlineData("fp8", 8, -1, 0.99)]
    public async Task Quantize_KeepsSentenceEmbeddings_OnMiniLm(string method, int bits, int groupSize, double minCosine)
    {
        var ct = TestContext.Current.CancellationToken;
        using var work = new TempDirectory();
        var context = Context(work.Path, "quantize", method);
        var result = method == "rtn"
            ? await new RtnPipeline().RunAsync(context, new RtnOptions { Bits = bits, GroupSize = groupSize }, ct)
            : await new Fp8Pipeline().RunAsync(context, new Fp8Options(), ct);

        var sentences = MiniLm.Sentences(SentenceCount);
        var comparison = await new BertEncoderComparer().CompareAsync(
            new EncoderComparisonRequest(context.OutputDir, MiniLm.ModelDir, sentences), ct);

        var similarity = comparison.Similarity!;
        var size = new FileInfo(Path.Combine(context.OutputDir, ModelFolder.SingleFileName)).Length;
        output.WriteLine($"{method} {bits}-bit g{groupSize}: {result.Metrics["quantized_layers"]} linears, mean cosine {similarity.MeanCosine:0.#####} " +
            $"(min {similarity.MinCosine:0.#####}), neighbour agreement {similarity.NeighbourAgreement:0.###}, " +
            $"pair Spearman {similarity.PairSpearman:0.####}, {size / 1e6:0.0} MB over {similarity.Sentences} sentences");
        Assert.Equal(36, Convert.ToInt32(result.Metrics["quantized_layers"]));
        Assert.True(similarity.MeanCosine >= minCosine, $"mean cosine {similarity.MeanCosine} < {minCosine}");
        Assert.True(similarity.MeanCosine < 1.0, "quantization changed nothing");
    }

    [Fact]
    public async Task EvaluateAsync_AnswersEncoderQuestionsInsteadOfPerplexity_WhenModelIsBert()
    {
        var ct = TestContext.Current.CancellationToken;
        using var work = new TempDirectory();
        var context = Context(work.Path, "quantize", "rtn");
        var result = await new RtnPipeline().RunAsync(context, new RtnOptions { Bits = 4, GroupSize = 128 }, ct);
        var candidate = new SourceModel(new Model("t_test", "minilm-rtn") { Quantization = result.Output!.Quantization }, context.OutputDir);

        var outcome = await new Evaluator(new HeldOutText(), new LlamaLanguageModelComparer()).EvaluateAsync(
            new EvaluationRequest(context.Job, candidate, context.Source, new EvaluationSpec(), context), ct);

        var items = outcome.Report.ItemsJson;
        output.WriteLine(items);
        Assert.Contains("\"quality.encoder_cosine\"", items);
        Assert.Contains("\"quality.encoder_neighbour_agreement\"", items);
        Assert.Contains("\"quality.encoder_pair_spearman\"", items);
        Assert.Contains("\"integrity.output_loads_and_runs\"", items);
        Assert.DoesNotContain("perplexity_within_tolerance", items);
        // The critical cosine item decides the verdict (every other critical item passes on this output).
        var cosine = (double)outcome.Metrics["encoder_mean_cosine"]!;
        Assert.InRange(cosine, 0.9, 1.0);
        Assert.Equal(cosine >= EncoderRubric.MinCosine(new RubricContext("quantize", "rtn", 4, 128, false, true, new EvaluationMetrics(), null))
            ? "pass" : "fail", outcome.Report.Verdict);
    }

    private static PipelineContext Context(string workDir, string type, string method)
    {
        var outputDir = Path.Combine(workDir, "output");
        Directory.CreateDirectory(outputDir);
        return new PipelineContext(new Job("t_test", type, method, "{}"),
            [new SourceModel(new Model("t_test", "all-MiniLM-L6-v2") { Architecture = "BertModel" }, MiniLm.ModelDir)],
            workDir, outputDir, new RecordingProgress(), new NoModels(), NullLogger.Instance);
    }

    private sealed class HeldOutText : IDatasetText
    {
        public Task<string> LoadAsync(string tenantId, string datasetId, CancellationToken cancellationToken) =>
            Task.FromResult(Optimizer.Worker.Modeling.Corpora.MobyDickCorpus.Load(TestEnvironment.CorpusDir).HeldOutText);
    }

    private sealed class NoModels : IModelFetcher
    {
        public Task<SourceModel> FetchAsync(string modelId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not used");
    }
}
