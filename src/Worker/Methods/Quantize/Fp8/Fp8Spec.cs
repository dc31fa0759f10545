using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Domain.Methods.Quantize.Fp8;
using Optimizer.Kernels.Codecs;

namespace Optimizer.Worker.Methods.Quantize.Fp8;

/// <summary>The FP8 options resolved to the codec's terms (format, safetensors dtype, scale layout).</summary>
public sealed record Fp8Spec(Fp8Format Format, bool PerChannel)
{
    public static Fp8Spec From(Fp8Options options) =>
        new(options.Format == "e5m2" ? Fp8Format.E5M2 : Fp8Format.E4M3, options.Granularity == "channel");

    public SafetensorsDtype Dtype => Format == Fp8Format.E4M3 ? SafetensorsDtype.F8_E4M3 : SafetensorsDtype.F8_E5M2;

    /// <summary><c>e4m3</c> or <c>e5m2</c>, the <c>fmt</c> of quantization_config.</summary>
    public string FormatName => Format == Fp8Format.E4M3 ? "e4m3" : "e5m2";

    /// <summary>Shape of <c>weight_scale</c>: <c>[out, 1]</c> per channel, <c>[1]</c> per tensor.</summary>
    public long[] ScaleShape(int outFeatures) => PerChannel ? [outFeatures, 1] : [1];

    public static bool TryFormatOf(SafetensorsDtype dtype, out Fp8Format format)
    {
        format = dtype == SafetensorsDtype.F8_E5M2 ? Fp8Format.E5M2 : Fp8Format.E4M3;
        return dtype is SafetensorsDtype.F8_E4M3 or SafetensorsDtype.F8_E5M2;
    }
}
