using System.Runtime.Intrinsics.X86;

namespace Optimizer.Kernels.LowBit;

/// <summary>
/// fp32 activations <c>[batch, in]</c> quantized to int8 per block (absmax, round half to even), in the stored input
/// order of one <see cref="BlockLayout"/>: what the integer-dot kernels multiply with. Reusable: <see cref="Quantize"/>
/// grows the buffers only when a larger shape arrives, so a layer called repeatedly allocates nothing.
/// </summary>
/// <remarks>
/// Quantizing activations is what llama.cpp does for its Q4/Q8 dot products; the error it adds is bounded:
/// <c>|x − sx·q| ≤ sx / 2</c> per element, so <c>|Δy| ≤ Σ_i |w_i|·sx(i) / 2</c> — the tolerance the tests assert.
/// </remarks>
public sealed class QuantizedActivations
{
    private sbyte[] _codes = [];
    private float[] _scales = [];
    private float[] _groupSums = [];

    public int Batch { get; private set; }

    /// <summary>int8 codes <c>[batch, paddedIn]</c>.</summary>
    public ReadOnlySpan<sbyte> Codes => _codes.AsSpan(0, Batch * Layout.PaddedIn);

    /// <summary>Block scales <c>[batch, blocks]</c>.</summary>
    public ReadOnlySpan<float> Scales => _scales.AsSpan(0, Batch * Layout.Blocks);

    /// <summary><c>Σ_{b ∈ g} sx[b] · Σ q</c> per <c>[batch, group]</c>: what the weight mins multiply.</summary>
    public ReadOnlySpan<float> GroupSums => _groupSums.AsSpan(0, Batch * Layout.Groups);

    public BlockLayout Layout { get; private set; } = null!;

    internal sbyte[] CodeArray => _codes;

    private byte[] _tables = [];

    /// <summary>
    /// The ternary kernel's tables <c>[batch, PaddedIn / 4, 16]</c>: entry <c>m</c> of step <c>j</c> is 128 plus the sum of
    /// the codes of inputs <c>4j + u</c> for the bits <c>u</c> set in <c>m</c> (the sum fits int8 because codes are at most
    /// 31; the offset makes it the unsigned operand of <c>vpmaddubsw</c>, and cancels in the kernel's b⁺ − b⁻).
    /// Built on first use after each <see cref="Quantize"/>.
    /// </summary>
    internal ReadOnlySpan<byte> LookupTables()
    {
        var length = Batch * Layout.PaddedIn / 4 * 16;
        if (!_tablesBuilt)
        {
            Grow(ref _tables, length);
            var steps = Batch * Layout.PaddedIn / 4;
            var done = Avx2.IsSupported ? TernaryTables.Build256(_codes, _tables, steps) : 0;
            TernaryTables.BuildScalar(_codes, _tables, done, steps);
            _tablesBuilt = true;
        }
        return _tables.AsSpan(0, length);
    }

    private bool _tablesBuilt;

    internal float[] ScaleArray => _scales;

    /// <summary>Largest code magnitude of the last <see cref="Quantize"/>: 127, or 31 for the ternary lookup tables.</summary>
    public int MaxCode { get; private set; } = 127;

    /// <summary>Quantizes <paramref name="x"/> <c>[batch, layout.InFeatures]</c>.</summary>
    /// <param name="x">Activations.</param>
    /// <param name="batch">Rows of <paramref name="x"/>.</param>
    /// <param name="layout">The matrix's block layout.</param>
    /// <param name="maxCode">Codes lie in <c>[-maxCode, maxCode]</c> (127 for the integer dots; 31 keeps a sum of four in int8).</param>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not <c>batch · InFeatures</c> long.</exception>
    public void Quantize(ReadOnlySpan<float> x, int batch, BlockLayout layout, int maxCode = 127)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCode, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxCode, 127);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        if (x.Length != (long)batch * layout.InFeatures)
        {
            throw new ArgumentException($"x has {x.Length} values; [batch {batch}, in {layout.InFeatures}] needs {(long)batch * layout.InFeatures}.", nameof(x));
        }
        Layout = layout;
        Batch = batch;
        MaxCode = maxCode;
        _tablesBuilt = false;
        Grow(ref _codes, batch * layout.PaddedIn);
        Grow(ref _scales, batch * layout.Blocks);
        Grow(ref _groupSums, batch * layout.Groups);
        Span<float> block = stackalloc float[layout.BlockSize];
        for (var n = 0; n < batch; n++)
        {
            var row = x.Slice(n * layout.InFeatures, layout.InFeatures);
            var sums = _groupSums.AsSpan(n * layout.Groups, layout.Groups);
            sums.Clear();
            for (var b = 0; b < layout.Blocks; b++)
            {
                var codes = _codes.AsSpan(n * layout.PaddedIn + b * layout.BlockSize, layout.BlockSize);
                var start = b * layout.BlockSize;
                // The common case needs no copy: natural order and a block inside the row.
                var source = layout.Permutation is null && start + layout.BlockSize <= layout.InFeatures
                    ? row.Slice(start, layout.BlockSize)
                    : Gather(row, layout, b, block);
                var (scale, sum) = Avx2.IsSupported && layout.BlockSize % BlockQuantizer.Width == 0
                    ? BlockQuantizer.Quantize256(source, codes, maxCode)
                    : BlockQuantizer.QuantizeScalar(source, codes, maxCode);
                _scales[n * layout.Blocks + b] = scale;
                sums[layout.GroupOfBlock[b]] += scale * sum;
            }
        }
    }

    private static ReadOnlySpan<float> Gather(ReadOnlySpan<float> row, BlockLayout layout, int block, Span<float> destination)
    {
        var start = block * layout.BlockSize;
        for (var j = 0; j < destination.Length; j++)
        {
            var k = start + j;
            destination[j] = k >= layout.InFeatures ? 0f : row[layout.Permutation is null ? k : layout.Permutation[k]];
        }
        return destination;
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[length];
        }
    }
}
