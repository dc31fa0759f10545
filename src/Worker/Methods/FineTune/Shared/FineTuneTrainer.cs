using Optimizer.Domain.Methods.FineTune;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.FineTune.Shared;

/// <summary>What one optimizer step measured (<c>Tokens</c>: target tokens that carried loss).</summary>
public sealed record StepReport(int Step, int TotalSteps, double Loss, double LearningRate, long Tokens);

/// <summary>
/// The training loop: causal-LM cross-entropy (targets <see cref="TrainingExamples.IgnoreIndex"/> carry no loss),
/// global gradient-norm clipping, cosine schedule with warm-up, AdamW/AdamP on the adapter parameters only.
/// </summary>
/// <remarks>
/// Step s's batch and dropout depend only on (seed, s), so a run resumed from the checkpoint of step s continues exactly
/// as the uninterrupted run would have (up to floating-point reduction order).
/// </remarks>
public sealed class FineTuneTrainer : IDisposable
{
    private readonly AdaptedModel _model;
    private readonly TrainingExamples _examples;
    private readonly FineTuneOptions _options;
    private readonly CosineSchedule _schedule;
    private readonly AdamOptimizer _optimizer;
    private readonly List<Parameter> _parameters;

    public FineTuneTrainer(AdaptedModel model, TrainingExamples examples, FineTuneOptions options, int totalSteps)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        _model = model;
        _examples = examples;
        _options = options;
        TotalSteps = totalSteps;
        _schedule = new CosineSchedule(options.LearningRate, Math.Min(options.WarmupSteps, totalSteps), totalSteps, options.MinLrRatio);
        _optimizer = new AdamOptimizer(model.Trainable, new AdamSettings(options.WeightDecay, options.Optimizer == FineTuneOptions.AdamP));
        _parameters = [.. model.Trainable.Select(p => p.Parameter)];
    }

    public int TotalSteps { get; }

    /// <summary>Steps done so far (restored ones included).</summary>
    public int CompletedSteps { get; private set; }

    /// <summary>Loss of the last step (NaN before the first).</summary>
    public double LastLoss { get; private set; } = double.NaN;

    /// <summary>Runs one step; returns what it measured.</summary>
    public StepReport Step(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var step = CompletedSteps;
        var lr = _schedule.At(step);
        double loss;
        long tokens;
        using (torch.NewDisposeScope())
        {
            // Dropout draws depend on the step alone (resumable).
            torch.manual_seed(_options.Seed + 7919L * (step + 1));
            _model.Model.train();
            var (input, target) = _examples.Batch(_examples.BatchIndices(step, _options.BatchSize, _options.Seed));
            var logits = _model.Model.forward(input);
            var lossTensor = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), target.reshape(-1),
                ignore_index: TrainingExamples.IgnoreIndex);
            _optimizer.ZeroGrad();
            lossTensor.backward();
            if (_options.GradientClip > 0)
            {
                nn.utils.clip_grad_norm_(_parameters, _options.GradientClip);
            }
            _optimizer.Step(lr);
            loss = lossTensor.item<float>();
            tokens = target.ne(TrainingExamples.IgnoreIndex).sum().item<long>();
        }
        _model.Model.eval();
        CompletedSteps++;
        LastLoss = loss;
        return new StepReport(CompletedSteps, TotalSteps, loss, lr, tokens);
    }

    /// <summary>Trainable values (raw) and optimizer moments of the current step, by name.</summary>
    public IEnumerable<(string Name, Tensor Value)> State() =>
        _model.Trainable.Select(p => ("param." + p.Name, (Tensor)p.Parameter))
            .Concat(_optimizer.State().Select(s => ("optim." + s.Name, s.Value)));

    /// <summary>Restores what <see cref="State"/> saved at step <paramref name="step"/>.</summary>
    public void Restore(Func<string, Tensor> read, int step, double loss)
    {
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in _model.Trainable)
            {
                using var saved = read("param." + name);
                parameter.copy_(saved);
            }
        }
        _optimizer.Restore(name => read("optim." + name), step);
        CompletedSteps = step;
        LastLoss = loss;
    }

    public void Dispose() => _optimizer.Dispose();
}
