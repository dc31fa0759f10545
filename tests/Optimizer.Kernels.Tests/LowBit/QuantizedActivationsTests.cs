using Optimizer.Kernels.LowBit;

namespace Optimizer.Kernels.Tests.LowBit;

public class QuantizedActivationsTests
{
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
