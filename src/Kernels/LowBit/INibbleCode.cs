using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// What a 4-bit code is worth as a small integer, and the <c>pmaddubsw</c> pairs <c>w·x</c> of 32 (or 16) codes with int8
/// activations. Every implementation keeps <c>|w_a·x_a + w_b·x_b| &lt; 4096</c> so that four pair sums fit a short.
/// </summary>
internal interface INibbleCode
{
    /// <summary>The integer value of <paramref name="code"/> (0..15).</summary>
    static abstract int Value(int code);

    static abstract Vector256<short> Pairs(Vector256<byte> codes, Vector256<sbyte> x);

    /// <summary>
    /// The first half of <see cref="Pairs(Vector256{byte}, Vector256{sbyte})"/>, done once per weight step when several
    /// activation rows share it: what <see cref="Multiply"/> needs of 32 codes.
    /// </summary>
    static abstract NibbleWeights Decode(Vector256<byte> codes);

    /// <summary>The second half: the <c>pmaddubsw</c> pairs of decoded weights with 32 int8 activations.</summary>
    static abstract Vector256<short> Multiply(NibbleWeights weights, Vector256<sbyte> x);

    static abstract Vector128<short> Pairs(Vector128<byte> codes, Vector128<sbyte> x);
}

/// <summary>Unsigned integer codes 0..15 (int4 with a zero point): pairs ≤ 2·15·127 = 3810.</summary>
internal readonly struct UnsignedNibble : INibbleCode
{
    public static int Value(int code) => code;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Pairs(Vector256<byte> codes, Vector256<sbyte> x) => Avx2.MultiplyAddAdjacent(codes, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NibbleWeights Decode(Vector256<byte> codes) => new(codes, default);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Multiply(NibbleWeights weights, Vector256<sbyte> x) => Avx2.MultiplyAddAdjacent(weights.Magnitudes, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> Pairs(Vector128<byte> codes, Vector128<sbyte> x) => Ssse3.MultiplyAddAdjacent(codes, x);
}

/// <summary>
/// FP4 E2M1 codes as twice their value, {0, 1, 2, 3, 4, 6, 8, 12} with the sign bit — integers, so one <c>pshufb</c> turns
/// 32 codes into int8 weights and the int8 sign trick does the rest: pairs ≤ 2·12·127 = 3048. The matrix folds the ½ into
/// its scales.
/// </summary>
internal readonly struct E2M1Nibble : INibbleCode
{
    private static ReadOnlySpan<sbyte> Doubled => [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

    public static int Value(int code) => Doubled[code];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Pairs(Vector256<byte> codes, Vector256<sbyte> x) => Multiply(Decode(codes), x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NibbleWeights Decode(Vector256<byte> codes)
    {
        // vpshufb looks up within each 128-bit lane, so the table is repeated in both.
        var table = Vector256.Create(Vector128.Create(Doubled));
        var w = Avx2.Shuffle(table, codes.AsSByte());
        return new(Avx2.Abs(w), w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Multiply(NibbleWeights weights, Vector256<sbyte> x) =>
        Avx2.MultiplyAddAdjacent(weights.Magnitudes, Avx2.Sign(x, weights.Signs));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> Pairs(Vector128<byte> codes, Vector128<sbyte> x)
    {
        var w = Ssse3.Shuffle(Vector128.Create(Doubled), codes.AsSByte());
        return Ssse3.MultiplyAddAdjacent(Ssse3.Abs(w), Ssse3.Sign(x, w));
    }
}

/// <summary>32 decoded 4-bit weights: unsigned magnitudes for <c>pmaddubsw</c> and, for signed codes, the signed values whose sign moves onto the activations.</summary>
internal readonly record struct NibbleWeights(Vector256<byte> Magnitudes, Vector256<sbyte> Signs);
