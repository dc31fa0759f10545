namespace Optimizer.Domain.Methods.Prune.Magnitude;

/// <summary>Magnitude pruning (ALGORITHMS.md 2.1): zero the smallest |W| of each decoder linear; weights only, no data.</summary>
[Method("prune", "magnitude",
    Description = "Magnitude pruning: zero the smallest-magnitude weights of every decoder linear (unstructured per layer, or N:M per row).",
    ReferenceUrl = "https://arxiv.org/abs/1506.02626")]
public sealed record MagnitudeOptions : PruneOptions;
