using System.Diagnostics.CodeAnalysis;
using Optimizer.Domain.Formats.BitStack;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.BitStack;

/// <summary>
/// Reads a BitStack linear (docs/formats/bitstack.md) as the sum of its first n blocks, n given by the manifest's
/// selection for <paramref name="budgetMb"/> (every block when null).
/// </summary>
/// <exception cref="InvalidDataException">From <see cref="TryRead"/>: the budget is below the smallest loadable model.</exception>
public sealed class BitStackPackedWeightReader(double? budgetMb = null) : IPackedWeightReader
{
    public bool TryRead(ModelFolder folder, string weightName, [NotNullWhen(true)] out Tensor? weight)
    {
        weight = null;
        if (!PackedLayout.TryGetPrefix(folder, weightName, "bitstack", out var prefix))
        {
            return false;
        }
        var (manifest, selection) = SelectionFor(folder);
        var index = manifest.Linears.ToList().FindIndex(l => l.Prefix == prefix);
        if (index < 0)
        {
            return false;
        }
        var linear = manifest.Linears[index];
        var blocks = Enumerable.Range(0, selection.BlocksPerLinear[index]).Select(i => new BitStackBlock(
            folder.GetTensorBytes(BitStackNames.Sign(prefix, i)).ToArray(),
            TensorBytes.ReadFloat(folder, BitStackNames.U(prefix, i)),
            TensorBytes.ReadFloat(folder, BitStackNames.V(prefix, i))));
        var rank = Math.Min(manifest.Rank, Math.Min(linear.OutFeatures, linear.InFeatures));
        var dense = BitStackDecomposition.Reconstruct(blocks, linear.OutFeatures, linear.InFeatures, rank);
        weight = torch.tensor(dense, [linear.OutFeatures, linear.InFeatures], ScalarType.Float32);
        return true;
    }

    /// <summary>The manifest of a BitStack folder and the truncation this reader loads.</summary>
    /// <remarks>Read on every call (a small JSON file): readers are shared, and a folder path may hold another model later.</remarks>
    public (BitStackManifest Manifest, BitStackSelection Selection) SelectionFor(ModelFolder folder)
    {
        var manifest = BitStackManifest.Parse(File.ReadAllText(Path.Combine(folder.Path, BitStackManifest.FileName)));
        var selection = manifest.Select(budgetMb) ?? throw new InvalidDataException(
            $"A budget of {budgetMb} MB is below this BitStack model's minimum of {manifest.MinimumBytes / BitStackManifest.BytesPerMb:0.###} MB.");
        return (manifest, selection);
    }
}
