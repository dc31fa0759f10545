using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Methods.Quantize.Shared;

namespace Optimizer.Worker.Methods.Quantize.Ptqtp;

/// <summary>
/// One linear as two trit-planes (docs/formats/trit-planes.md): packed planes <c>[out, ceil(in/5)]</c> each and the
/// float16-rounded scales <c>[out, groups, 2]</c>.
/// </summary>
public sealed record PtqtpLinear(int OutFeatures, int InFeatures, int GroupSize, byte[] Plane1, byte[] Plane2, float[] Alphas) : IDenseLinear
{
    public static PtqtpLinear Quantize(float[] weight, int outFeatures, int inFeatures, int groupSize, TritPlaneFitOptions options)
    {
        var plane1 = new byte[TritPlaneQuantizer.PlaneLength(outFeatures, inFeatures)];
        var plane2 = new byte[plane1.Length];
        var alphas = new float[outFeatures * TritPlaneQuantizer.GroupCount(inFeatures, groupSize) * 2];
        TritPlaneQuantizer.Quantize(weight, outFeatures, inFeatures, groupSize, options, plane1, plane2, alphas);
        TensorBytes.RoundToHalf(alphas);
        return new PtqtpLinear(outFeatures, inFeatures, groupSize, plane1, plane2, alphas);
    }

    public float[] Dequantize()
    {
        var dense = new float[OutFeatures * InFeatures];
        TritPlaneQuantizer.Dequantize(Plane1, Plane2, Alphas, OutFeatures, InFeatures, GroupSize, dense);
        return dense;
    }
}

/// <summary>Suffixes of the trit-plane tensors after a linear's prefix (docs/formats/trit-planes.md).</summary>
public static class PtqtpNames
{
    public const string Plane1 = ".weight_trits1";
    public const string Plane2 = ".weight_trits2";
    public const string Alpha = ".weight_alpha";
    public const string Shape = ".weight_shape";
}
