using System.Runtime.InteropServices;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Rtn;

/// <summary>One quantized linear per checkpoint key (its weight prefix): the four packed arrays, restored on a retry.</summary>
internal static class RtnCheckpoint
{
    public static GptqLinear QuantizeOrRestore(JobCheckpoint? checkpoint, LinearTarget target, RtnSpec spec, Func<GptqLinear> quantize,
        CancellationToken cancellationToken)
    {
        if (checkpoint is null)
        {
            return quantize();
        }
        using (var saved = checkpoint.TryOpenTensors(target.Prefix, cancellationToken))
        {
            if (saved is not null)
            {
                return new GptqLinear(target.OutFeatures, target.InFeatures, spec.Bits, spec.GroupSize,
                    Read<int>(saved, "qweight"), Read<int>(saved, "qzeros"), Read<Half>(saved, "scales"), Read<int>(saved, "g_idx"));
            }
        }
        var linear = quantize();
        var tensors = new SafetensorsWriter()
            .Add("qweight", SafetensorsDtype.I32, [linear.QWeight.Length], Bytes(linear.QWeight))
            .Add("qzeros", SafetensorsDtype.I32, [linear.QZeros.Length], Bytes(linear.QZeros))
            .Add("scales", SafetensorsDtype.F16, [linear.Scales.Length], Bytes(linear.Scales))
            .Add("g_idx", SafetensorsDtype.I32, [linear.GIdx.Length], Bytes(linear.GIdx));
        checkpoint.SaveTensors(target.Prefix, tensors, cancellationToken);
        return linear;
    }

    private static T[] Read<T>(SafetensorsFile file, string name) where T : struct =>
        MemoryMarshal.Cast<byte, T>(file.GetBytes(name)).ToArray();

    private static byte[] Bytes<T>(T[] values) where T : struct => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
