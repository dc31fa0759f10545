using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.FineTune.Shared;

/// <summary>Hyper-parameters of <see cref="AdamOptimizer"/> (AdamP defaults from ALGORITHMS.md 4.4).</summary>
public sealed record AdamSettings(
    double WeightDecay = 0,
    bool Projected = false,
    double Beta1 = 0.9,
    double Beta2 = 0.999,
    double Eps = 1e-8,
    double Delta = 0.1,
    double WdRatio = 0.1);

/// <summary>
/// AdamW (decoupled weight decay), or AdamP when <see cref="AdamSettings.Projected"/>: the update of a weight with more
/// than one dimension whose gradient is (nearly) orthogonal to it loses its radial component (<see cref="AdamPProjection"/>)
/// and its weight decay is scaled by <c>wd_ratio</c>.
/// </summary>
/// <remarks>Own implementation (rather than torch.optim) because AdamP is not in TorchSharp and the moments must be checkpointed by name.</remarks>
public sealed class AdamOptimizer : IDisposable
{
    private readonly IReadOnlyList<(string Name, Parameter Parameter)> _parameters;
    private readonly AdamSettings _settings;
    private readonly Dictionary<string, (Tensor M, Tensor V)> _moments = new(StringComparer.Ordinal);

    public AdamOptimizer(IReadOnlyList<(string Name, Parameter Parameter)> parameters, AdamSettings settings)
    {
        _parameters = parameters;
        _settings = settings;
        foreach (var (name, parameter) in parameters)
        {
            _moments[name] = (torch.zeros_like(parameter), torch.zeros_like(parameter));
        }
    }

    /// <summary>Steps taken (t of the bias corrections).</summary>
    public int StepCount { get; private set; }

    /// <summary>One update with learning rate <paramref name="lr"/> from the parameters' current gradients.</summary>
    public void Step(double lr)
    {
        StepCount++;
        var (b1, b2) = (_settings.Beta1, _settings.Beta2);
        var biasCorrection1 = 1 - Math.Pow(b1, StepCount);
        var biasCorrection2 = 1 - Math.Pow(b2, StepCount);
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in _parameters)
        {
            var grad = parameter.grad;
            if (grad is null)
            {
                continue;
            }
            using var scope = torch.NewDisposeScope();
            var (m, v) = _moments[name];
            m.mul_(b1).add_(grad, alpha: 1 - b1);
            v.mul_(b2).addcmul_(grad, grad, value: 1 - b2);
            var denom = (v.sqrt() / Math.Sqrt(biasCorrection2)).add_(_settings.Eps);
            var perturb = m / denom;
            var wdRatio = 1.0;
            if (_settings.Projected && parameter.dim() > 1)
            {
                (perturb, wdRatio) = AdamPProjection.Project(parameter, grad, perturb, _settings.Delta, _settings.WdRatio, _settings.Eps);
            }
            if (_settings.WeightDecay > 0)
            {
                parameter.mul_(1 - lr * _settings.WeightDecay * wdRatio);
            }
            parameter.add_(perturb, alpha: -lr / biasCorrection1);
        }
    }

    public void ZeroGrad()
    {
        foreach (var (_, parameter) in _parameters)
        {
            parameter.grad?.zero_();
        }
    }

    /// <summary>The moments by name (<c>{name}.exp_avg</c>, <c>{name}.exp_avg_sq</c>) for a checkpoint.</summary>
    public IEnumerable<(string Name, Tensor Value)> State() =>
        _moments.SelectMany(p => new[] { ($"{p.Key}.exp_avg", p.Value.M), ($"{p.Key}.exp_avg_sq", p.Value.V) });

    /// <summary>Restores the moments and step count saved by <see cref="State"/>.</summary>
    public void Restore(Func<string, Tensor> read, int stepCount)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, (m, v)) in _moments)
        {
            using var savedM = read($"{name}.exp_avg");
            using var savedV = read($"{name}.exp_avg_sq");
            m.copy_(savedM);
            v.copy_(savedV);
        }
        StepCount = stepCount;
    }

    public void Dispose()
    {
        foreach (var (m, v) in _moments.Values)
        {
            m.Dispose();
            v.Dispose();
        }
    }
}
