using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.FineTune.Shared;

/// <summary>
/// Weight Compander reparameterisation (ALGORITHMS.md 4.5): the network uses <c>w = f(v)</c> for each trainable
/// weight v, and gradients flow through f.
/// </summary>
/// <remarks>
/// [interp] The exact f of arXiv 2306.16993 (Sec. III) was not reachable; this is the digest's μ-law-type template in
/// its smooth form <c>f(v) = a·asinh(b·v)/asinh(b)</c>: odd, monotone, slope <c>a·b/asinh(b) &gt; 1</c> at 0 (expands
/// small magnitudes away from 0), logarithmic growth (compresses large magnitudes), <c>f(±1) = ±a</c>. asinh rather
/// than <c>sign(v)·ln(1+b|v|)</c> because the latter's autograd gradient is 0 at exactly v = 0, which would freeze
/// LoRA's zero-initialised B for ever. Confirm against the paper before calling it faithful.
/// </remarks>
public sealed class WeightCompander
{
    /// <param name="amplitude">a: f(1) = a.</param>
    /// <param name="sharpness">b &gt; 0: larger b expands small weights more and compresses large ones harder.</param>
    public WeightCompander(double amplitude = 1.0, double sharpness = 4.0)
    {
        if (amplitude <= 0 || sharpness <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sharpness), "the compander needs a > 0 and b > 0");
        }
        Amplitude = amplitude;
        Sharpness = sharpness;
        Normaliser = Math.Asinh(sharpness);
    }

    public double Amplitude { get; }
    public double Sharpness { get; }
    private double Normaliser { get; }

    /// <summary>f(v) = a·asinh(b·v)/asinh(b) (differentiable).</summary>
    public Tensor Apply(Tensor v) => (v * Sharpness).asinh() * (Amplitude / Normaliser);

    /// <summary>f⁻¹(w) = sinh(w·asinh(b)/a)/b: the stored value that makes the network see <paramref name="w"/>.</summary>
    public Tensor Inverse(Tensor w) => (w.detach() * (Normaliser / Amplitude)).sinh() / Sharpness;

    /// <summary>f(v) for one number (documentation and tests).</summary>
    public double Apply(double v) => Amplitude * Math.Asinh(Sharpness * v) / Normaliser;
}
