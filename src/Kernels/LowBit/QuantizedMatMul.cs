using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// <c>y = x · Wᵀ</c> for quantized weights without dequantizing them: fp32 activations <c>[batch, in]</c> (quantized to
/// int8 per block inside <see cref="QuantizedActivations"/>), fp32 output <c>[batch, out]</c>.
/// </summary>
/// <remarks>
/// Output rows are split across threads once a product is large enough to pay for it (<see cref="ParallelThreshold"/>);
/// the cancellation token is checked between row tiles only. Each row is read once per call: the batch loop runs inside
/// the row, so for batch ≤ 16 the row's bytes stay in L1 while every activation row uses them, and four activation rows
/// share each decoded weight step. The hot loops are marked <c>AggressiveOptimization</c>: tiered compilation would
/// run them unoptimized (about ten times slower) for the first second or so of calls, and an evaluation or latency
/// benchmark calls each layer only a handful of times.
/// </remarks>
public static partial class QuantizedMatMul
{
    /// <summary>Weights per call below which one thread does all the work (thread hand-off costs more).</summary>
    public const long ParallelThreshold = RowParallel.Threshold;

    /// <summary><c>y [batch, out] = x · Wᵀ</c> for a 4-bit group-wise matrix.</summary>
    /// <exception cref="ArgumentException">The activations were quantized for another layout, or <paramref name="y"/> has the wrong length.</exception>
    public static void Int4(Int4Matrix weight, QuantizedActivations x, Span<float> y,
        KernelWidth width = (KernelWidth)(-1), CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weight);
        Dispatch<NibbleDot256<UnsignedNibble>, NibbleDot128<UnsignedNibble>, NibbleDotScalar<UnsignedNibble>>(
            new RowSet(weight.Codes, weight.Layout.PaddedIn / 2, weight.OutFeatures, weight.Scales, null, weight.Layout, Zeros: weight.Zeros),
            x, y, width, cancellationToken);
    }

    /// <summary><c>y [batch, out] = x · Wᵀ</c> for an FP4 E2M1 matrix.</summary>
    /// <exception cref="ArgumentException">The activations were quantized for another layout, or <paramref name="y"/> has the wrong length.</exception>
    public static void Fp4(Fp4Matrix weight, QuantizedActivations x, Span<float> y,
        KernelWidth width = (KernelWidth)(-1), CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weight);
        // The dots read E2M1 codes with a zero point (E2M1Nibble): its mins are that many scales, not an array to stream.
        Dispatch<NibbleDot256<E2M1Nibble>, NibbleDot128<E2M1Nibble>, NibbleDotScalar<E2M1Nibble>>(
            new RowSet(weight.Codes, weight.Layout.PaddedIn / 2, weight.OutFeatures, null, null, weight.Layout, E2M1Nibble.ZeroPoint, weight.Scales),
            x, y, width, cancellationToken);
    }

    /// <summary><c>y [batch, out] = x · Wᵀ</c> for an 8-bit matrix.</summary>
    /// <exception cref="ArgumentException">The activations were quantized for another layout, or <paramref name="y"/> has the wrong length.</exception>
    public static void Int8(Int8Matrix weight, QuantizedActivations x, Span<float> y,
        KernelWidth width = (KernelWidth)(-1), CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(x);
        if (Resolve(width) == KernelWidth.Vector256 && x.Batch > 1)
        {
            Int8Tiles(weight, x, y, cancellationToken);
            return;
        }
        Dispatch<Int8Dot256, Int8Dot128, Int8DotScalar>(
            new RowSet(weight.Codes, weight.Layout.PaddedIn, weight.OutFeatures, weight.Scales, weight.Mins, weight.Layout), x, y, width, cancellationToken);
    }

    /// <summary>Runs the row dot of the resolved width: one switch for every integer-dot format.</summary>
    private static void Dispatch<TWide, TNarrow, TScalar>(RowSet rows, QuantizedActivations x, Span<float> y, KernelWidth width,
        CancellationToken cancellationToken)
        where TWide : IRowDot
        where TNarrow : IRowDot
        where TScalar : IRowDot
    {
        switch (Resolve(width))
        {
            case KernelWidth.Vector256: Run<TWide>(rows, x, y, cancellationToken); break;
            case KernelWidth.Vector128: Run<TNarrow>(rows, x, y, cancellationToken); break;
            default: Run<TScalar>(rows, x, y, cancellationToken); break;
        }
    }

    private static KernelWidth Resolve(KernelWidth requested)
    {
        if ((int)requested == -1)
        {
            return KernelWidths.Best;
        }
        if (requested > KernelWidths.Best)
        {
            throw new PlatformNotSupportedException($"{requested} is not supported on this machine (best: {KernelWidths.Best}).");
        }
        return requested;
    }

    private static void Run<TDot>(RowSet rows, QuantizedActivations x, Span<float> y, CancellationToken cancellationToken)
        where TDot : IRowDot
    {
        CheckProduct(rows.Layout, rows.Count, x, y);
        ForRows(rows.Count, (long)rows.Count * rows.Layout.PaddedIn * x.Batch, y, cancellationToken,
            (output, start, end) => RunRows<TDot>(rows, x, output, start, end));
    }

    /// <summary>The activations belong to this matrix's layout and <paramref name="y"/> is <c>[batch, out]</c>.</summary>
    private static void CheckProduct(BlockLayout layout, int outFeatures, QuantizedActivations x, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!ReferenceEquals(x.Layout, layout))
        {
            throw new ArgumentException("the activations were quantized for another matrix's layout.", nameof(x));
        }
        if (y.Length != (long)x.Batch * outFeatures)
        {
            throw new ArgumentException($"y has {y.Length} values; [batch {x.Batch}, out {outFeatures}] needs {(long)x.Batch * outFeatures}.", nameof(y));
        }
    }

    /// <summary>Work on a range <c>[start, end)</c> of a product's units (rows or tiles), writing into the output.</summary>
    private delegate void UnitRange(Span<float> y, int start, int end);

    /// <summary>Runs <paramref name="body"/> over <paramref name="units"/> split across threads (<see cref="RowParallel"/>).</summary>
    private static unsafe void ForRows(int units, long work, Span<float> y, CancellationToken cancellationToken, UnitRange body)
    {
        fixed (float* destination = y)
        {
            // A pointer crosses into the lambda because a Span cannot; the fixed block outlives the call.
            var (output, length) = ((nint)destination, y.Length);
            RowParallel.For(units, work, cancellationToken, (start, end) => body(new Span<float>((void*)output, length), start, end));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRows<TDot>(RowSet rows, QuantizedActivations x, Span<float> y, int start, int end)
        where TDot : IRowDot
    {
        var layout = rows.Layout;
        var codes = rows.Codes.AsSpan();
        var activations = x.Codes;
        var blockScales = x.Scales;
        var groupSums = x.GroupSums;
        Span<float> four = stackalloc float[4];
        // Compact scales are expanded once per row (a tile's buffer, on the stack unless the row has very many groups).
        var expanded = rows.ScaleRows is null ? [] : layout.Groups <= 1024 ? stackalloc float[layout.Groups] : new float[layout.Groups];
        for (var o = start; o < end; o++)
        {
            var row = codes.Slice(o * rows.RowBytes, rows.RowBytes);
            var scales = rows.ScaleRows is null ? rows.Scales.AsSpan(o * layout.Groups, layout.Groups) : rows.ScaleRows.Row(o, expanded);
            // Mins are s·z from stored zero points, or stored, or a fixed multiple of the scales (a zero point on every code).
            var zeros = rows.Zeros is null ? default : rows.Zeros.AsSpan(o * layout.Groups, layout.Groups);
            var mins = rows.Mins is null ? scales : rows.Mins.AsSpan(o * layout.Groups, layout.Groups);
            var minFactor = rows.Mins is null && rows.Zeros is null ? rows.ZeroPoint : 1f;
            var n = 0;
            for (; n + 4 <= x.Batch; n += 4)
            {
                TDot.Dot4(row, activations.Slice(n * layout.PaddedIn), blockScales.Slice(n * layout.Blocks), scales, layout, four);
                for (var r = 0; r < 4; r++)
                {
                    y[(n + r) * rows.Count + o] = four[r] - minFactor * MinTerm(mins, groupSums.Slice((n + r) * layout.Groups, layout.Groups), zeros);
                }
            }
            for (; n < x.Batch; n++)
            {
                var dot = TDot.Dot1(row, activations.Slice(n * layout.PaddedIn, layout.PaddedIn),
                    blockScales.Slice(n * layout.Blocks, layout.Blocks), scales, layout);
                y[n * rows.Count + o] = dot - minFactor * MinTerm(mins, groupSums.Slice(n * layout.Groups, layout.Groups), zeros);
            }
        }
    }

    /// <summary>
    /// <c>Σ_g min[g] · Σ_{b ∈ g} sx[b]·Σq</c>: the zero points' share, one short dot per row. With zero-point bytes
    /// <paramref name="zeros"/> the mins are the scales and each group's min is <c>s[g] · z[g]</c> (the float an fp32 min
    /// would have held), formed here rather than stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float MinTerm(ReadOnlySpan<float> mins, ReadOnlySpan<float> groupSums, ReadOnlySpan<byte> zeros = default)
    {
        // A group per 32 inputs makes this a tenth of the row's work: 8 at a time.
        var weighted = !zeros.IsEmpty;
        var g = 0;
        var total = 0f;
        if (Avx2.IsSupported && mins.Length >= Vector256<float>.Count)
        {
            ref var m = ref MemoryMarshal.GetReference(mins);
            ref var s = ref MemoryMarshal.GetReference(groupSums[..mins.Length]);
            ref var z = ref MemoryMarshal.GetReference(weighted ? zeros[..mins.Length] : zeros);
            var acc = Vector256<float>.Zero;
            for (; g + Vector256<float>.Count <= mins.Length; g += Vector256<float>.Count)
            {
                var min = Vector256.LoadUnsafe(ref m, (nuint)g);
                if (weighted)
                {
                    min *= Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(
                        Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref z, g))).AsByte()));
                }
                acc += min * Vector256.LoadUnsafe(ref s, (nuint)g);
            }
            total = Vector256.Sum(acc);
        }
        for (; g < mins.Length; g++)
        {
            total += (weighted ? mins[g] * zeros[g] : mins[g]) * groupSums[g];
        }
        return total;
    }

    /// <summary>What the driver needs of a quantized matrix, whatever its format.</summary>
    /// <remarks>
    /// Mins are <c>[out, groups]</c>, or <c>s·z</c> from the zero-point bytes <c>Zeros</c>, or (both null) <c>ZeroPoint</c>
    /// times the scales; scales are <c>[out, groups]</c>,
    /// or null when <c>ScaleRows</c> holds them (FP4's compact scales).
    /// </remarks>
    private sealed record RowSet(byte[] Codes, int RowBytes, int Count, float[]? Scales, float[]? Mins, BlockLayout Layout,
        float ZeroPoint = 0f, Fp4Scales? ScaleRows = null, byte[]? Zeros = null);
}
