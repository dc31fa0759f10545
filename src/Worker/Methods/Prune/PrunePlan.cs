using Optimizer.Domain.Methods.Prune;
using Optimizer.Worker.Methods.Prune.Farms;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Prune;

/// <summary>Which tensors a prune job zeroes: every decoder linear (<see cref="ModelFiles.IsDecoderLinear"/>) the pattern fits.</summary>
/// <param name="Targets">Weight names to prune.</param>
/// <param name="Skipped">Decoder linears kept dense because their input size is not a multiple of M.</param>
public sealed record PrunePlan(IReadOnlySet<string> Targets, IReadOnlyList<string> Skipped)
{
    /// <summary>Per-layer sparsity of a non-uniform allocation (FARMS); null when every layer takes the job's sparsity.</summary>
    public IReadOnlyDictionary<string, double>? LayerSparsity { get; init; }

    /// <summary>The ESD alpha behind <see cref="LayerSparsity"/>, for the job's events and metrics.</summary>
    public IReadOnlyDictionary<string, double>? LayerAlpha { get; init; }

    /// <summary>The uniform plan: every fitting decoder linear at the spec's sparsity.</summary>
    public static PrunePlan For(ModelFolder folder, PruneSpec spec)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(spec);
        var targets = new HashSet<string>(StringComparer.Ordinal);
        var skipped = new List<string>();
        foreach (var name in folder.TensorNames)
        {
            var entry = folder.GetEntry(name);
            if (!ModelFiles.IsDecoderLinear(name, entry))
            {
                continue;
            }
            if (spec.Fits(entry.Shape[1]))
            {
                targets.Add(name);
            }
            else
            {
                skipped.Add(name);
            }
        }
        return new PrunePlan(targets, skipped);
    }

    /// <summary>The plan <paramref name="options"/> ask for: uniform, or FARMS per-layer sparsities from the source weights.</summary>
    public static PrunePlan For(ModelFolder folder, PruneSpec spec, PruneOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plan = For(folder, spec);
        return options.Allocation == PruneOptions.FarmsAllocation && !spec.IsNOfM
            ? FarmsAllocator.Allocate(folder, plan, spec.Sparsity, options.Epsilon, cancellationToken)
            : plan;
    }

    /// <summary>The spec for one target: <paramref name="spec"/> with this layer's allocated sparsity, if any.</summary>
    public PruneSpec SpecFor(string name, PruneSpec spec) =>
        LayerSparsity is not null && LayerSparsity.TryGetValue(name, out var sparsity) ? spec with { Sparsity = sparsity } : spec;
}
