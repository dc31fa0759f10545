using Optimizer.Kernels.LowBit;

namespace Optimizer.Kernels.Tests.LowBit;

public class QuantizedActivationsTests
{
    [Theory]
    [InlineData(256, 128, 3, 127, false)]
    [InlineData(100, -1, 2, 127, false)]
    [InlineData(96, 32, 1, 127, true)]
    [InlineData(256, 64, 4, 31, false)]
    [InlineData(60, -1, 1, 31, false)]
    [InlineData(64, 8, 2, 31, false)]
    public void Quantize_GivesTheAbsmaxRoundHalfEvenCodes(int inFeatures, int groupSize, int batch, int maxCode, bool actOrder)
    {
        int[]? permutation = actOrder ? [.. Enumerable.Range(0, inFeatures).Reverse()] : null;
        var layout = new BlockLayout(inFeatures, groupSize, unit: groupSize == 8 ? 4 : 32, permutation);
        var x = LowBitCases.Gaussian(batch * inFeatures, seed: inFeatures + batch);
        // Ties: a block whose absmax maps to maxCode exactly and whose other values land on .5 steps.
        for (var k = 0; k < Math.Min(8, inFeatures); k++)
        {
            x[k] = k == 0 ? maxCode : k + 0.5f;
        }
        var activations = new QuantizedActivations();

        activations.Quantize(x, batch, layout, maxCode);

        for (var n = 0; n < batch; n++)
        {
            for (var b = 0; b < layout.Blocks; b++)
            {
                var amax = 0f;
                for (var j = b * layout.BlockSize; j < (b + 1) * layout.BlockSize; j++)
                {
                    amax = MathF.Max(amax, MathF.Abs(Stored(x, layout, n, j)));
                }
                Assert.Equal(amax / maxCode, activations.Scales[n * layout.Blocks + b]);
                for (var j = b * layout.BlockSize; j < (b + 1) * layout.BlockSize; j++)
                {
                    var expected = amax == 0f ? 0 : Math.Clamp((int)MathF.Round(Stored(x, layout, n, j) * (maxCode / amax)), -maxCode, maxCode);
                    Assert.Equal(expected, activations.Codes[n * layout.PaddedIn + j]);
                }
            }
        }
    }

    [Fact]
    public void Quantize_GivesZeroCodes_ForAZeroBlock()
    {
        var layout = new BlockLayout(64, -1, 32);
        var activations = new QuantizedActivations();
        activations.Quantize(LowBitCases.Gaussian(64, seed: 1), 1, layout);

        activations.Quantize(new float[64], 1, layout);

        Assert.All(activations.Codes.ToArray(), code => Assert.Equal(0, code));
        Assert.Equal(0f, activations.Scales[0]);
    }

    private static float Stored(float[] x, BlockLayout layout, int n, int k) =>
        k >= layout.InFeatures ? 0f : x[n * layout.InFeatures + (layout.Permutation is null ? k : layout.Permutation[k])];

    [Theory]
    [InlineData(256, 32, 127)]
    [InlineData(384, 128, 127)]
    [InlineData(224, 32, 127)]
    [InlineData(256, 128, 31)]
    public void Codes_AreAbsmaxRoundHalfToEven_PerBlock(int inFeatures, int groupSize, int maxCode)
    {
        const int batch = 3;
        var layout = new BlockLayout(inFeatures, groupSize, 32, padTo: 64);
        var x = LowBitCases.Gaussian(batch * inFeatures, seed: inFeatures + groupSize);
        // Exact halves: a value at 0.5 / inverse of the block's step must round to the even neighbour, as MathF.Round does.
        x[1] = 2.5f;
        x[2] = 40f;
        x[3] = -1.5f;
        var activations = new QuantizedActivations();
        activations.Quantize(x, batch, layout, maxCode);

        for (var n = 0; n < batch; n++)
        {
            for (var b = 0; b < layout.Blocks; b++)
            {
                var start = b * layout.BlockSize;
                var length = Math.Max(0, Math.Min(layout.BlockSize, inFeatures - start));
                var block = x.AsSpan(n * inFeatures + start, length);
                var amax = 0f;
                foreach (var v in block)
                {
                    amax = MathF.Max(amax, MathF.Abs(v));
                }
                Assert.Equal(amax / maxCode, activations.Scales[n * layout.Blocks + b]);
                for (var j = 0; j < layout.BlockSize; j++)
                {
                    var expected = j < length && amax > 0 ? Math.Clamp((int)MathF.Round(block[j] * (maxCode / amax)), -maxCode, maxCode) : 0;
                    Assert.Equal(expected, activations.Codes[n * layout.PaddedIn + start + j]);
                }
            }
        }
    }
}
