using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Worker.Modeling;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune.Compact;

/// <summary>
/// Adds the compact N:M tensors of pruned linears to a <see cref="SafetensorsWriter"/> that streams them: the compact
/// form is encoded from the pruned weight when the dense tensor is written (or, without a dense tensor, when the values
/// are) and held only until written.
/// </summary>
/// <remarks>
/// The writer orders tensors by element size, then name: a weight's <c>_nm_values</c> (same dtype, name extends the
/// weight's) comes right after the weight, and the U8 indices come last, so only the small packed indices wait.
/// </remarks>
internal sealed class NmCompactTensors(int n, int m)
{
    private readonly Dictionary<string, Tensor> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _indices = new(StringComparer.Ordinal);

    /// <summary>Encodes the pruned weight <paramref name="name"/> (left to the caller).</summary>
    public void Capture(string name, Tensor pruned)
    {
        var (values, indices) = NmCompactCodec.Encode(pruned, n, m);
        _values[name] = values.DetachFromDisposeScope();
        _indices[name] = indices;
    }

    /// <summary>Declares the two compact tensors of <paramref name="name"/>; <paramref name="prune"/> produces the pruned weight when no dense tensor was written first.</summary>
    public void Register(SafetensorsWriter writer, string name, TensorEntry entry, Func<Tensor> prune)
    {
        var rows = entry.Shape[0];
        var columns = entry.Shape[1];
        writer.Add(name + NmCompactCodec.ValuesSuffix, entry.Dtype, [rows, columns / m * n], () =>
        {
            if (!_values.Remove(name, out var values))
            {
                using var pruned = prune();
                Capture(name, pruned);
                _values.Remove(name, out values);
            }
            return values!;
        });
        writer.AddBytes(name + NmCompactCodec.IndicesSuffix, SafetensorsDtype.U8, NmCompactCodec.IndicesShape(rows, columns, n, m), () =>
            _indices.Remove(name, out var indices)
                ? indices
                : throw new InvalidOperationException($"{name}: indices requested before the weight was pruned."));
    }
}
