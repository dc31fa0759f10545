namespace Optimizer.Worker.Evaluation;

/// <summary>The thresholds of one report: ALGORITHMS.md Part B defaults for the case, then the user's overrides.</summary>
public sealed record RubricThresholds(double MaxPerplexityIncrease, double MinTop1Agreement, double MaxMeanKl, bool PerplexityCritical)
{
    public const double DefaultMinTop1Agreement = 0.90;
    public const double DefaultMaxMeanKl = 0.05;
    /// <summary>Default largest drop of choice accuracy below the baseline's (2 points).</summary>
    public const double DefaultMaxAccuracyDrop = 0.02;

    /// <summary>Largest accepted drop of <c>jsonl_choices</c> accuracy below the baseline's.</summary>
    public double MaxAccuracyDrop { get; init; } = DefaultMaxAccuracyDrop;

    /// <summary>
    /// Perplexity tolerance by case: 5 % for quantization at 4 bits and up (and for anything else), 15 % at 3 bits
    /// and for pruning (the Part B prune default), 100 % at 2 bits — where RTN is known to degrade badly, so the
    /// item only flags a collapse and is not critical unless the user sets a threshold.
    /// </summary>
    public static RubricThresholds For(RubricContext context)
    {
        var (increase, critical) = context switch
        {
            { Bits: <= 2 } => (1.00, false),
            { Bits: 3 } => (0.15, true),
            { JobType: "prune" } => (0.15, true),
            _ => (0.05, true),
        };
        var overrides = context.Overrides;
        if (overrides?.MaxPerplexityIncrease is { } userIncrease)
        {
            increase = userIncrease;
            critical = true;
        }
        return new RubricThresholds(
            increase,
            overrides?.MinTop1Agreement ?? DefaultMinTop1Agreement,
            overrides?.MaxMeanKl ?? DefaultMaxMeanKl,
            critical)
        {
            MaxAccuracyDrop = overrides?.MaxAccuracyDrop ?? DefaultMaxAccuracyDrop,
        };
    }

    /// <summary>
    /// Overhead in bits per quantized weight allowed by the size budget, on top of <c>b</c>: a float16 scale and a
    /// <c>b</c>-bit zero per group (<c>(16 + b) / g</c>, the Part C bpw formula; <c>g</c> = the input size when per
    /// channel), the int32 <c>g_idx</c> entry per input channel shared by the layer's outputs (<c>32 / out</c>), and
    /// 0.01 bit of slack. Computed for the smallest quantized layer, so it bounds every layer.
    /// </summary>
    public static double SizeOverheadBits(int bits, int groupSize, int minInFeatures, int minOutFeatures) =>
        (16.0 + bits) / (groupSize > 0 ? groupSize : Math.Max(1, minInFeatures)) + 32.0 / Math.Max(1, minOutFeatures) + 0.01;
}
