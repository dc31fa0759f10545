using Optimizer.Domain.Methods.Evaluate.Standard;

namespace Optimizer.Worker.Evaluation;

/// <summary>The case a report is built for: what was done, to what, and what was measured.</summary>
/// <param name="JobType">The job's type (<c>quantize</c>, <c>prune</c>, ..., <c>evaluate</c>).</param>
/// <param name="JobMethod">The job's method.</param>
/// <param name="Bits">Bits of the candidate's weights when it is quantized.</param>
/// <param name="GroupSize">Group size of the candidate's quantization (-1 per channel).</param>
/// <param name="IsCausalLm">The candidate is a causal LM (LM quality questions apply).</param>
/// <param name="HasBaseline">A baseline was available (comparison questions apply).</param>
/// <param name="Metrics">The measurements.</param>
/// <param name="Overrides">The user's rubric overrides.</param>
public sealed record RubricContext(
    string JobType,
    string JobMethod,
    int? Bits,
    int? GroupSize,
    bool IsCausalLm,
    bool HasBaseline,
    EvaluationMetrics Metrics,
    RubricOverrides? Overrides)
{
    public bool IsQuantized => Bits is not null;
}
