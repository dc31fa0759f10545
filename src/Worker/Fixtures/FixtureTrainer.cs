using System.Diagnostics;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Fixtures;

/// <summary>
/// Trains the fixture <see cref="LlamaForCausalLM"/> from scratch: random windows of the training token
/// stream, AdamW, linear warm-up then cosine decay, gradient clipping, fixed seed and thread count.
/// </summary>
/// <remarks>
/// Deterministic for a given recipe on a given machine: the window sampler is a seeded <see cref="Random"/>,
/// torch is seeded, and the thread count is fixed (CPU reductions can differ across thread counts).
/// </remarks>
public sealed class FixtureTrainer(FixtureRecipe recipe, Action<string> log)
{
    public LlamaForCausalLM Train(IReadOnlyList<int> trainTokens, CancellationToken cancellationToken = default)
    {
        var span = recipe.SequenceLength + 1;
        if (trainTokens.Count < span * 2)
        {
            throw new ArgumentException($"need at least {span * 2} training tokens, got {trainTokens.Count}", nameof(trainTokens));
        }
        torch.set_num_threads(recipe.Threads);
        torch.manual_seed(recipe.Seed);
        var model = new LlamaForCausalLM(recipe.ToLlamaConfig());
        Initialize(model);
        model.train();
        var tokens = trainTokens.Select(t => (long)t).ToArray();
        var sampler = new Random(recipe.Seed);
        using var optimizer = torch.optim.AdamW(model.parameters(), lr: recipe.PeakLearningRate, weight_decay: recipe.WeightDecay);
        var clock = Stopwatch.StartNew();
        for (var step = 0; step < recipe.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var learningRate = LearningRate(step);
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = learningRate;
            }
            var batch = SampleBatch(tokens, sampler, span);
            var input = batch.narrow(1, 0, recipe.SequenceLength);
            var target = batch.narrow(1, 1, recipe.SequenceLength);
            var logits = model.forward(input);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, recipe.VocabSize), target.reshape(-1));
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(model.parameters(), recipe.GradientClip);
            optimizer.step();
            if (step % 10 == 0 || step == recipe.Steps - 1)
            {
                log($"step {step + 1}/{recipe.Steps} loss {loss.item<float>():F3} lr {learningRate:E2} elapsed {clock.Elapsed.TotalSeconds:F0}s");
            }
        }
        model.eval();
        return model;
    }

    /// <summary>Linear warm-up to the peak, then cosine decay to <c>peak × MinLearningRateRatio</c>.</summary>
    public double LearningRate(int step)
    {
        if (step < recipe.WarmupSteps)
        {
            return recipe.PeakLearningRate * (step + 1) / recipe.WarmupSteps;
        }
        var progress = (double)(step - recipe.WarmupSteps) / Math.Max(1, recipe.Steps - recipe.WarmupSteps);
        var cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        return recipe.PeakLearningRate * (recipe.MinLearningRateRatio + (1 - recipe.MinLearningRateRatio) * cosine);
    }

    private Tensor SampleBatch(long[] tokens, Random sampler, int span)
    {
        var data = new long[recipe.BatchSize * span];
        for (var b = 0; b < recipe.BatchSize; b++)
        {
            var start = sampler.Next(0, tokens.Length - span + 1);
            Array.Copy(tokens, start, data, b * span, span);
        }
        return torch.tensor(data, [recipe.BatchSize, span], dtype: ScalarType.Int64);
    }

    /// <summary>Hugging Face's Llama initialisation: weights N(0, initializer_range), norms one.</summary>
    private void Initialize(LlamaForCausalLM model)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!name.Contains("norm", StringComparison.Ordinal))
            {
                nn.init.normal_(parameter, 0, recipe.InitStd);
            }
        }
    }
}
