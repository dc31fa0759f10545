using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Prune;

/// <summary>Which tensors a prune job zeroes: every decoder linear (<see cref="ModelFiles.IsDecoderLinear"/>) the pattern fits.</summary>
/// <param name="Targets">Weight names to prune.</param>
/// <param name="Skipped">Decoder linears kept dense because their input size is not a multiple of M.</param>
public sealed record PrunePlan(IReadOnlySet<string> Targets, IReadOnlyList<string> Skipped)
{
    public static PrunePlan For(ModelFolder folder, PruneSpec spec)
    {
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
}
