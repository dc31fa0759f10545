using Microsoft.ML.Tokenizers;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using Optimizer.Worker.Modeling.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Evaluation.Tasks;

/// <summary>Which models answer the tasks: the candidate, the baseline (optional) and the judge (optional), as model folders.</summary>
public sealed record TaskModels(string CandidateDir, string? BaselineDir, string? JudgeDir, string? JudgeModelId, double? BudgetMb = null);

/// <summary>
/// Runs a <see cref="TaskSet"/> on Llama-family models: greedy generations checked by the per-prompt rubric (free-form
/// questions by the judge), and log-likelihood accuracy on choice tasks.
/// </summary>
public static class LanguageModelTasks
{
    public static Task<TaskResults> RunAsync(TaskModels models, TaskSet tasks, int maxNewTokens, CancellationToken cancellationToken) =>
        Task.Run(() => Run(models, tasks, maxNewTokens, cancellationToken), cancellationToken);

    private static TaskResults Run(TaskModels models, TaskSet tasks, int maxNewTokens, CancellationToken cancellationToken)
    {
        using var candidate = Load(models.CandidateDir, models.BudgetMb);
        using var baseline = models.BaselineDir is null ? null : Load(models.BaselineDir, null);
        using var judgeLoaded = models.JudgeDir is null || models.JudgeDir == models.CandidateDir ? null : Load(models.JudgeDir, null);
        var judgeSource = models.JudgeDir is null ? null : judgeLoaded ?? candidate;
        var judge = judgeSource is null ? null : new JudgeModel(judgeSource.Model, judgeSource.Tokenizer, judgeSource.MaxContext);

        var prompts = new List<PromptResult>();
        foreach (var task in tasks.Prompts)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var response = candidate.Generate(task.Prompt, maxNewTokens);
            var baselineResponse = baseline?.Generate(task.Prompt, maxNewTokens);
            prompts.Add(new PromptResult(task, response, baselineResponse, [.. task.Rubric.Select(item => Answer(task, item, response, judge))]));
        }
        ChoiceAccuracy? accuracy = null;
        if (tasks.Choices.Count > 0)
        {
            var correct = tasks.Choices.Count(t => candidate.Choose(t, cancellationToken) == t.Answer);
            double? baselineAccuracy = baseline is null
                ? null
                : (double)tasks.Choices.Count(t => baseline.Choose(t, cancellationToken) == t.Answer) / tasks.Choices.Count;
            accuracy = new ChoiceAccuracy(tasks.Choices.Count, (double)correct / tasks.Choices.Count, baselineAccuracy,
                tasks.Choices.Average(t => t.Choices.Count));
        }
        return new TaskResults(prompts, accuracy, judge is null ? null : models.JudgeModelId);
    }

    private static RubricItemAnswer Answer(PromptTask task, PromptRubricItem item, string response, JudgeModel? judge)
    {
        if (item.Check is { } check)
        {
            var (yes, evidence) = check.Evaluate(response);
            return new RubricItemAnswer(item, yes, evidence);
        }
        if (judge is null)
        {
            return new RubricItemAnswer(item, null, new Dictionary<string, object?>());
        }
        var verdict = judge.Ask(task.Prompt, response, item.Question);
        return new RubricItemAnswer(item, verdict.Yes, new Dictionary<string, object?>
        {
            ["judge_p_yes"] = verdict.PYes,
            ["judge_p_no"] = verdict.PNo,
        });
    }

    private static LoadedLm Load(string dir, double? budgetMb)
    {
        using var folder = ModelFolder.Open(dir, LlamaLanguageModelComparer.ReadersFor(budgetMb));
        var config = LlamaConfig.FromHf(folder.Config);
        var model = LlamaForCausalLM.FromFolder(folder);
        model.to(ComputeDevice.Preferred);
        return new LoadedLm(model, TokenizerLoader.Load(dir), config.MaxPositionEmbeddings, config.EosTokenId);
    }

    private sealed class LoadedLm(LlamaForCausalLM model, Tokenizer tokenizer, int maxContext, int? eosTokenId) : IDisposable
    {
        public nn.Module<Tensor, Tensor> Model => model;
        public Tokenizer Tokenizer => tokenizer;
        public int MaxContext => maxContext;

        public string Generate(string prompt, int maxNewTokens)
        {
            var ids = tokenizer.EncodeToIds(prompt);
            if (ids.Count == 0)
            {
                return "";
            }
            var generated = GreedyDecoder.Generate(model, ids, maxNewTokens, eosTokenId, maxContext);
            return tokenizer.Decode(generated.Where(id => id != eosTokenId)) ?? "";
        }

        public int Choose(ChoiceTask task, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var context = tokenizer.EncodeToIds(task.Prompt);
            var scores = task.Choices.Select(choice =>
            {
                // The harness convention: the continuation carries the separating space.
                var text = task.Prompt.Length > 0 && !char.IsWhiteSpace(task.Prompt[^1]) && !choice.StartsWith(' ') ? " " + choice : choice;
                return NextTokenScorer.ContinuationLogLikelihood(model, context, tokenizer.EncodeToIds(text), maxContext);
            }).ToList();
            return scores.IndexOf(scores.Max());
        }

        public void Dispose() => model.Dispose();
    }
}
