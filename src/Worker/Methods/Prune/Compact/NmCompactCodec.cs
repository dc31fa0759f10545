using Optimizer.Kernels.Codecs;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Prune.Compact;

/// <summary>
/// The compact N:M layout (docs/formats/n-m-sparse.md): per linear <c>W [out, in]</c>, <c>&lt;name&gt;_nm_values</c>
/// <c>[out, in·N/M]</c> in the weight's dtype (the N kept weights of each group of M input columns, in column order) and
/// <c>&lt;name&gt;_nm_indices</c> U8 <c>[out, RowBytes]</c> (their positions inside the group, packed by
/// <see cref="NmIndexPacking"/>).
/// </summary>
public static class NmCompactCodec
{
    public const string ValuesSuffix = "_nm_values";
    public const string IndicesSuffix = "_nm_indices";

    /// <summary>Encodes a weight holding at most <paramref name="n"/> non-zeros per group of <paramref name="m"/>.</summary>
    /// <remarks>A group with fewer non-zeros is padded with its first zero positions, so every group stores exactly N.</remarks>
    /// <exception cref="ArgumentException">The input size is not a multiple of M, or a group holds more than N non-zeros.</exception>
    public static (Tensor Values, byte[] Indices) Encode(Tensor weight, int n, int m)
    {
        ArgumentNullException.ThrowIfNull(weight);
        using var scope = torch.NewDisposeScope();
        var rows = weight.shape[0];
        var columns = weight.shape[1];
        if (columns % m != 0)
        {
            throw new ArgumentException($"{columns} input columns are not a multiple of {m}.", nameof(weight));
        }
        var grouped = weight.reshape(rows, columns / m, m);
        var nonZeros = grouped.ne(0).sum(-1);
        if (nonZeros.max().item<long>() > n)
        {
            throw new ArgumentException($"a group of {m} holds {nonZeros.max().item<long>()} non-zeros, more than {n}.", nameof(weight));
        }
        // Non-zeros rank first, then lower positions: the N smallest keys are the kept positions.
        var key = grouped.eq(0).to(ScalarType.Int64) * m + torch.arange(m, dtype: ScalarType.Int64);
        var positions = key.topk(n, dim: -1, largest: false).indexes.sort(-1).Values;
        var values = grouped.gather(-1, positions).reshape(rows, columns / m * n).contiguous();
        var indices = positions.to(ScalarType.Byte).flatten().data<byte>().ToArray();
        var bits = NmIndexPacking.IndexBits(m);
        var kept = (int)(columns / m * n);
        var packed = new byte[rows * NmIndexPacking.RowBytes(kept, bits)];
        NmIndexPacking.Pack(indices, (int)rows, kept, bits, packed);
        return (values.MoveToOuterDisposeScope(), packed);
    }

    /// <summary>Shape of the packed indices of a <c>[rows, columns]</c> weight.</summary>
    public static long[] IndicesShape(long rows, long columns, int n, int m) =>
        [rows, NmIndexPacking.RowBytes((int)(columns / m * n), NmIndexPacking.IndexBits(m))];

    /// <summary>The dense <c>[rows, columns]</c> weight in float32, zeros where nothing is stored.</summary>
    /// <exception cref="ArgumentException">The shapes disagree.</exception>
    public static Tensor Decode(Tensor values, ReadOnlySpan<byte> packedIndices, long columns, int n, int m)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var scope = torch.NewDisposeScope();
        var rows = values.shape[0];
        var kept = values.shape[1];
        if (columns % m != 0 || kept != columns / m * n)
        {
            throw new ArgumentException($"values [{rows}, {kept}] do not match {columns} columns at {n}:{m}.", nameof(values));
        }
        var indices = new byte[rows * kept];
        NmIndexPacking.Unpack(packedIndices, (int)rows, (int)kept, NmIndexPacking.IndexBits(m), indices);
        var positions = torch.tensor(indices, [rows, columns / m, n], ScalarType.Byte).to(ScalarType.Int64);
        if (positions.max().item<long>() >= m)
        {
            throw new ArgumentException($"a stored position is not below {m}.", nameof(packedIndices));
        }
        var dense = torch.zeros([rows, columns / m, m], ScalarType.Float32)
            .scatter(-1, positions, values.to(ScalarType.Float32).reshape(rows, columns / m, n));
        return dense.reshape(rows, columns).MoveToOuterDisposeScope();
    }
}
