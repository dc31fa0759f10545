using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Shared;

namespace Optimizer.Worker.Methods.Quantize.BitStack;

/// <summary>
/// BitStack's iterative absolute-value decomposition of one weight (ALGORITHMS.md 1.8, step 1): block i is
/// <c>sign(R) ⊙ (u_i v_i)</c> with <c>u_i v_i</c> the best rank-k approximation of <c>|R|</c>, and <c>R -= block</c>.
/// </summary>
/// <remarks>
/// Each block replaces ‖R‖ by ‖|R| − u v‖ ≤ ‖|R|‖ = ‖R‖ (rank-k SVD is optimal and 0 is feasible), so the error is
/// non-increasing in the number of blocks. With <c>roundToHalf</c> the factors are rounded to float16 before the residual
/// is updated, so the residual (and <see cref="SquaredErrors"/>) describe exactly what the file stores.
/// </remarks>
public sealed record BitStackDecomposition(int OutFeatures, int InFeatures, int Rank, IReadOnlyList<BitStackBlock> Blocks,
    IReadOnlyList<double> SquaredErrors)
{
    /// <summary>Decomposes a row-major <c>[out, in]</c> weight into <paramref name="blocks"/> blocks.</summary>
    public static BitStackDecomposition Decompose(float[] weight, int outFeatures, int inFeatures, int blocks, int rank, bool roundToHalf)
    {
        var residual = (float[])weight.Clone();
        var magnitude = new float[residual.Length];
        var result = new List<BitStackBlock>(blocks);
        var errors = new List<double>(blocks + 1) { SquaredNorm(residual) };
        var k = Math.Min(rank, Math.Min(outFeatures, inFeatures));
        for (var i = 0; i < blocks; i++)
        {
            var signs = new byte[SignPacking.PackedLength(residual.Length)];
            SignPacking.Pack(residual, signs);
            for (var j = 0; j < residual.Length; j++)
            {
                magnitude[j] = MathF.Abs(residual[j]);
            }
            var (u, v, _) = LowRank.Factor(magnitude, outFeatures, inFeatures, k);
            if (roundToHalf)
            {
                TensorBytes.RoundToHalf(u);
                TensorBytes.RoundToHalf(v);
            }
            var block = new BitStackBlock(signs, u, v);
            block.Subtract(residual, outFeatures, inFeatures, k);
            result.Add(block);
            errors.Add(SquaredNorm(residual));
        }
        return new BitStackDecomposition(outFeatures, inFeatures, k, result, errors);
    }

    /// <summary>The sum of the first <paramref name="count"/> blocks, <c>Ŵ(n)</c>.</summary>
    public float[] Reconstruct(int count) => Reconstruct(Blocks.Take(count), OutFeatures, InFeatures, Rank);

    /// <summary>The sum of the given blocks of a <c>[out, in]</c> weight with rank-<paramref name="rank"/> factors.</summary>
    public static float[] Reconstruct(IEnumerable<BitStackBlock> blocks, int outFeatures, int inFeatures, int rank)
    {
        var dense = new float[outFeatures * inFeatures];
        foreach (var block in blocks)
        {
            block.Subtract(dense, outFeatures, inFeatures, rank, sign: -1f);
        }
        return dense;
    }

    private static double SquaredNorm(ReadOnlySpan<float> values)
    {
        var sum = 0.0;
        foreach (var v in values)
        {
            sum += (double)v * v;
        }
        return sum;
    }
}

/// <summary>One residual block as stored: packed signs of the whole matrix, <c>u [out, k]</c>, <c>v [k, in]</c>.</summary>
public sealed record BitStackBlock(byte[] Signs, float[] U, float[] V)
{
    /// <summary><c>target -= sign · (S ⊙ (u v))</c>: subtracts the block (or adds it, with <paramref name="sign"/> = -1).</summary>
    public void Subtract(Span<float> target, int outFeatures, int inFeatures, int rank, float sign = 1f)
    {
        var product = new float[outFeatures * inFeatures];
        LowRank.AddProduct(U, V, outFeatures, rank, inFeatures, product);
        var signs = new float[product.Length];
        SignPacking.Unpack(Signs, signs);
        for (var j = 0; j < product.Length; j++)
        {
            target[j] -= sign * signs[j] * product[j];
        }
    }
}
