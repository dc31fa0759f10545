using System.Diagnostics.CodeAnalysis;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Prune;
using Optimizer.Worker.Modeling;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune.Compact;

/// <summary>
/// Reads a linear stored in the compact N:M layout (<see cref="NmCompactCodec"/>) back as a dense float32 weight; N and M
/// come from <c>config.json</c> <c>pruning_config.pattern</c>.
/// </summary>
public sealed class NmCompactPackedWeightReader : IPackedWeightReader
{
    public bool TryRead(ModelFolder folder, string weightName, [NotNullWhen(true)] out Tensor? weight)
    {
        ArgumentNullException.ThrowIfNull(folder);
        weight = null;
        var valuesName = weightName + NmCompactCodec.ValuesSuffix;
        var indicesName = weightName + NmCompactCodec.IndicesSuffix;
        if (!weightName.EndsWith(".weight", StringComparison.Ordinal)
            || !folder.ContainsTensor(valuesName) || !folder.ContainsTensor(indicesName))
        {
            return false;
        }
        var pattern = folder.Config.Raw["pruning_config"]?["pattern"]?.GetValue<string>();
        if (!PruneOptions.TryParseNm(pattern, out var n, out var m))
        {
            throw new InvalidDataException($"{weightName} is stored N:M-compact but config.json pruning_config.pattern is '{pattern}', not N:M.");
        }
        var values = folder.GetEntry(valuesName);
        var indices = folder.GetEntry(indicesName);
        if (values.Shape.Length != 2 || values.Shape[1] % n != 0)
        {
            throw new InvalidDataException($"{valuesName}: [{string.Join(", ", values.Shape)}] is not [out, in·{n}/{m}].");
        }
        var columns = values.Shape[1] / n * m;
        if (indices.Dtype != SafetensorsDtype.U8 || !indices.Shape.SequenceEqual(NmCompactCodec.IndicesShape(values.Shape[0], columns, n, m)))
        {
            throw new InvalidDataException($"{indicesName}: expected U8 [{string.Join(", ", NmCompactCodec.IndicesShape(values.Shape[0], columns, n, m))}], got {indices.Dtype} [{string.Join(", ", indices.Shape)}].");
        }
        using var stored = folder.ReadTensor(valuesName);
        weight = NmCompactCodec.Decode(stored, folder.GetTensorBytes(indicesName), columns, n, m);
        return true;
    }
}
