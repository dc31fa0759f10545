using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>
/// Best rank-r approximation by SVD, split symmetrically: <c>A ≈ U_r V_r</c> with <c>U_r = U[:, :r]·diag(√σ_r)</c> and
/// <c>V_r = diag(√σ_r)·Vᵀ[:r, :]</c> — LoRC's factors (ALGORITHMS.md 1.6) and BitStack's magnitude blocks (1.8).
/// </summary>
public static class LowRank
{
    /// <summary>Factors a row-major <c>[rows, columns]</c> matrix; <paramref name="rank"/> is capped at min(rows, columns).</summary>
    /// <returns>U_r <c>[rows, r]</c>, V_r <c>[r, columns]</c> (row-major) and all singular values, descending.</returns>
    public static (float[] U, float[] V, float[] Sigma) Factor(float[] matrix, int rows, int columns, int rank)
    {
        using var scope = torch.NewDisposeScope();
        var r = Math.Min(rank, Math.Min(rows, columns));
        // float64 keeps the small singular values of a quantization error accurate; the factors are stored far coarser.
        var a = torch.tensor(matrix, [rows, columns], ScalarType.Float32).to_type(ScalarType.Float64);
        var (u, s, vh) = torch.linalg.svd(a, fullMatrices: false);
        var root = s.narrow(0, 0, r).sqrt();
        var left = u.narrow(1, 0, r) * root.unsqueeze(0);
        var right = vh.narrow(0, 0, r) * root.unsqueeze(1);
        return (Floats(left), Floats(right), Floats(s));
    }

    /// <summary>Adds <c>U·V</c> (<c>[rows, r]·[r, columns]</c>) to <paramref name="destination"/> in place.</summary>
    public static void AddProduct(ReadOnlySpan<float> u, ReadOnlySpan<float> v, int rows, int rank, int columns, Span<float> destination)
    {
        for (var i = 0; i < rows; i++)
        {
            var row = destination.Slice(i * columns, columns);
            for (var k = 0; k < rank; k++)
            {
                var factor = u[i * rank + k];
                var vRow = v.Slice(k * columns, columns);
                for (var j = 0; j < columns; j++)
                {
                    row[j] += factor * vRow[j];
                }
            }
        }
    }

    private static float[] Floats(Tensor t) => t.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
}
