using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Merge.Slerp;

/// <summary>Spherical linear interpolation of two tensors treated as flat vectors (ALGORITHMS.md 3.2, mergekit <c>slerp</c>).</summary>
public static class SlerpMath
{
    /// <summary>Above this |cos| the two directions count as parallel and plain lerp is used (mergekit's DOT_THRESHOLD).</summary>
    public const double DotThreshold = 0.9995;

    /// <summary>Norms at or below this are not normalised (mergekit's eps).</summary>
    public const double Epsilon = 1e-8;

    /// <summary>
    /// <c>sin((1−t)θ)/sin θ · v0 + sin(tθ)/sin θ · v1</c> with θ the angle between the normalised copies, applied to
    /// the unnormalised tensors; lerp <c>(1−t)·v0 + t·v1</c> when |cos θ| &gt; <see cref="DotThreshold"/>.
    /// </summary>
    public static Tensor Interpolate(double t, Tensor v0, Tensor v1)
    {
        using var scope = torch.NewDisposeScope();
        // The dot product in float64: over millions of entries a float32 sum drifts enough to move θ.
        var a = v0.flatten().to_type(ScalarType.Float64);
        var b = v1.flatten().to_type(ScalarType.Float64);
        var normA = a.norm().item<double>();
        var normB = b.norm().item<double>();
        var dot = a.dot(b).item<double>() / ((normA > Epsilon ? normA : 1) * (normB > Epsilon ? normB : 1));
        double s0;
        double s1;
        if (Math.Abs(dot) > DotThreshold)
        {
            (s0, s1) = (1 - t, t);
        }
        else
        {
            var theta0 = Math.Acos(dot);
            var sinTheta0 = Math.Sin(theta0);
            var thetaT = theta0 * t;
            (s0, s1) = (Math.Sin(theta0 - thetaT) / sinTheta0, Math.Sin(thetaT) / sinTheta0);
        }
        return (v0 * s0 + v1 * s1).MoveToOuterDisposeScope();
    }
}
