using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// What a 4-bit code is worth as a small unsigned integer (0..24), so 32 codes and 32 int8 activations go straight into
/// one <c>pmaddubsw</c>: every implementation keeps <c>w_a·x_a + w_b·x_b ≤ 2·24·127 = 6096</c>, so four pair sums still
/// fit a short. Signed formats add a zero point (<see cref="ZeroPoint"/>) that the driver takes back once per group.
/// </summary>
internal interface INibbleCode
{
    /// <summary>The unsigned integer value of <paramref name="code"/> (0..15).</summary>
    static abstract int Value(int code);

    /// <summary>What <see cref="Value"/> adds to the code's true (integer) value; the matrix's mins are <c>ZeroPoint · scale</c>.</summary>
    static abstract int ZeroPoint { get; }

    /// <summary>The lookup table <see cref="Decode(Vector256{byte}, Vector256{byte})"/> takes: built once outside the loops.</summary>
    static abstract Vector256<byte> Table { get; }

    /// <summary>The values of 32 codes (one byte each, 0..15) as unsigned bytes for <c>pmaddubsw</c>.</summary>
    static abstract Vector256<byte> Decode(Vector256<byte> codes, Vector256<byte> table);

    /// <summary>The 128-bit <see cref="Decode(Vector256{byte}, Vector256{byte})"/>, with the lower half of the table.</summary>
    static abstract Vector128<byte> Decode(Vector128<byte> codes, Vector128<byte> table);
}

/// <summary>Unsigned integer codes 0..15 (int4 with a zero point): the code is the value, no lookup.</summary>
internal readonly struct UnsignedNibble : INibbleCode
{
    public static int Value(int code) => code;

    public static int ZeroPoint => 0;

    public static Vector256<byte> Table => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Decode(Vector256<byte> codes, Vector256<byte> table) => codes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Decode(Vector128<byte> codes, Vector128<byte> table) => codes;
}

/// <summary>
/// FP4 E2M1 codes as twice their value plus 12: {0, 1, 2, 3, 4, 6, 8, 12} with the sign bit becomes 0..24 — unsigned
/// integers, so one <c>pshufb</c> turns 32 codes into <c>pmaddubsw</c> operands with no sign trick (<c>abs</c> and
/// <c>sign</c> per step, as llama.cpp's MXFP4 dot does). The matrix folds the ½ into its scales and the driver subtracts
/// <c>12 · scale · Σ x</c> per group.
/// </summary>
internal readonly struct E2M1Nibble : INibbleCode
{
    private static ReadOnlySpan<byte> Biased => [12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0];

    public static int Value(int code) => Biased[code];

    public static int ZeroPoint => 12;

    // vpshufb looks up within each 128-bit lane, so the table is repeated in both.
    public static Vector256<byte> Table => Vector256.Create(Vector128.Create(Biased));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Decode(Vector256<byte> codes, Vector256<byte> table) => Avx2.Shuffle(table, codes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Decode(Vector128<byte> codes, Vector128<byte> table) => Ssse3.Shuffle(table, codes);
}
