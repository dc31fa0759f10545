using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;

namespace Optimizer.Worker.Methods.Quantize.Fp8;

/// <summary>
/// Produces each target's <c>weight</c> (FP8 codes) and <c>weight_scale</c> (float32) while the writer streams the file.
/// </summary>
/// <remarks>
/// The writer orders tensors by element size, so every scale is written long before its codes. Rather than keep
/// codes in memory between the two, each is computed from the source weight when asked for: the scales are an
/// absmax pass, and the codes recompute the same (deterministic) scales. Reading a weight twice is cheap next to
/// holding half the model. In a job, each linear's codes are a checkpoint key, restored on a retry; the scales are
/// always recomputed (one absmax pass, the same bits).
/// </remarks>
internal sealed class Fp8LayerSource(ModelFolder folder, Fp8Spec spec, Action<int, string> onQuantized, JobCheckpoint? checkpoint,
    CancellationToken cancellationToken)
{
    private static readonly CheckpointCodec<byte[]> CodesCodec = new((tensors, codes) => tensors.AddArray("codes", codes),
        saved => saved.ReadArray<byte>("codes"));

    private int _done;

    public void AddTo(SafetensorsWriter writer, LinearTarget target)
    {
        writer.Add(target.Prefix + ".weight_scale", SafetensorsDtype.F32, spec.ScaleShape(target.OutFeatures),
            () => torch.tensor(Scales(target, Read(target)), spec.ScaleShape(target.OutFeatures), torch.ScalarType.Float32));
        writer.AddBytes(target.WeightName, spec.Dtype, [target.OutFeatures, target.InFeatures], () => Codes(target));
    }

    private byte[] Codes(LinearTarget target)
    {
        var codes = checkpoint.ComputeOrRestore(target.Prefix, () =>
        {
            var weight = Read(target);
            var scales = Scales(target, weight);
            var encoded = new byte[weight.Length];
            Fp8Quantizer.Encode(weight, scales, target.OutFeatures, target.InFeatures, spec.Format, encoded);
            return encoded;
        }, CodesCodec, cancellationToken);
        _done++;
        onQuantized(_done, target.WeightName);
        return codes;
    }

    private float[] Scales(LinearTarget target, float[] weight)
    {
        var scales = new float[spec.PerChannel ? target.OutFeatures : 1];
        Fp8Quantizer.ComputeScales(weight, target.OutFeatures, target.InFeatures, spec.Format, scales);
        return scales;
    }

    private float[] Read(LinearTarget target) => WeightBytes.ToFloat32(folder.GetTensorBytes(target.WeightName), target.Dtype);
}
