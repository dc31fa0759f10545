using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// The stored scales of an <see cref="Fp4Matrix"/> (<c>rowScale · groupScale / 2</c> per <c>[out, groups]</c>). When every
/// group scale is a power of two (the <c>pow2</c> and <c>row_pow2</c> constraints, MXFP4's recipe) they are kept as one
/// exponent byte per group and one float per row — a byte instead of four per 32 weights, an eighth less to stream per
/// product — and expanded per row to exactly the floats the fp32 form holds (a power-of-two factor rounds nothing).
/// </summary>
public sealed class Fp4Scales
{
    private readonly float[]? _floats;
    private readonly byte[]? _exponents;
    private readonly float[]? _rowFactors;

    private Fp4Scales(int groups, float[]? floats, byte[]? exponents, float[]? rowFactors)
    {
        (Groups, _floats, _exponents, _rowFactors) = (groups, floats, exponents, rowFactors);
    }

    public int Groups { get; }

    /// <summary>Whether the scales are stored as exponent bytes (else as fp32).</summary>
    public bool IsCompact => _exponents is not null;

    /// <summary>Bytes a product streams for the scales.</summary>
    public long Bytes => _exponents is null ? 4L * _floats!.Length : _exponents.LongLength + 4L * _rowFactors!.Length;

    /// <summary>The scales <c>(rowScales[o] / 2) · groupScales[o, g]</c>, compact when that is exact.</summary>
    public static Fp4Scales Create(ReadOnlySpan<float> groupScales, ReadOnlySpan<float> rowScales, int outFeatures, int groups)
    {
        var exponents = new byte[groupScales.Length];
        var rowFactors = new float[outFeatures];
        var compact = true;
        for (var o = 0; o < outFeatures && compact; o++)
        {
            rowFactors[o] = 0.5f * rowScales[o];
            for (var g = 0; g < groups && compact; g++)
            {
                var scale = groupScales[o * groups + g];
                var bits = BitConverter.SingleToInt32Bits(scale);
                var exponent = bits >> 23;
                // A positive normal power of two has no mantissa bits: expanded, it is the same float, so the products are too.
                compact = (bits & 0x7FFFFF) == 0 && exponent is > 0 and < 255;
                exponents[o * groups + g] = (byte)exponent;
            }
        }
        if (compact)
        {
            return new Fp4Scales(groups, null, exponents, rowFactors);
        }
        var floats = new float[groupScales.Length];
        for (var o = 0; o < outFeatures; o++)
        {
            for (var g = 0; g < groups; g++)
            {
                floats[o * groups + g] = 0.5f * rowScales[o] * groupScales[o * groups + g];
            }
        }
        return new Fp4Scales(groups, floats, null, null);
    }

    /// <summary>Row <paramref name="o"/>'s scales: the stored floats, or the exponents expanded into <paramref name="buffer"/> (at least <see cref="Groups"/> long).</summary>
    public ReadOnlySpan<float> Row(int o, Span<float> buffer)
    {
        if (_exponents is null)
        {
            return _floats.AsSpan(o * Groups, Groups);
        }
        var exponents = _exponents.AsSpan(o * Groups, Groups);
        var factor = _rowFactors![o];
        var destination = buffer[..Groups];
        var g = 0;
        if (Avx2.IsSupported)
        {
            ref var source = ref MemoryMarshal.GetReference(exponents);
            ref var target = ref MemoryMarshal.GetReference(destination);
            var scale = Vector256.Create(factor);
            for (; g + 8 <= Groups; g += 8)
            {
                // Eight exponent bytes to int32 lanes, into the float exponent field: 2^(e − 127) exactly.
                var bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, g))).AsByte();
                var powers = Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(bytes), 23).AsSingle();
                (scale * powers).StoreUnsafe(ref target, (nuint)g);
            }
        }
        for (; g < Groups; g++)
        {
            destination[g] = factor * BitConverter.Int32BitsToSingle(exponents[g] << 23);
        }
        return destination;
    }
}
