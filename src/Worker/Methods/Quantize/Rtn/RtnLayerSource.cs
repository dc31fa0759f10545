using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Quantize.Rtn;

/// <summary>
/// Produces the four GPTQ tensors of each target on demand while the writer streams the file, quantizing
/// each layer once and dropping its packed arrays as soon as they are written.
/// </summary>
/// <remarks>
/// The writer orders tensors by element size, so a layer's int32 tensors come together and its float16 scales
/// much later: only the scales (1/64 of the fp16 weight at g = 128) wait in memory between the two.
/// Each quantized linear is saved to the job's checkpoint, and restored from it on a retry (<see cref="CheckpointTensors.ComputeOrRestore"/>).
/// </remarks>
internal sealed class RtnLayerSource(ModelFolder folder, RtnSpec spec, Action<int, string> onQuantized, JobCheckpoint? checkpoint,
    CancellationToken cancellationToken)
{
    private readonly Dictionary<string, Cached> _cache = new(StringComparer.Ordinal);
    private int _done;

    public void AddTo(SafetensorsWriter writer, LinearTarget target)
    {
        var groups = spec.GroupCount(target.InFeatures);
        long packedRows = GptqPacking.PackedLength(target.InFeatures, spec.Bits);
        long zeroColumns = GptqPacking.PackedLength(target.OutFeatures, spec.Bits);
        writer.Add(target.Prefix + ".qweight", SafetensorsDtype.I32, [packedRows, target.OutFeatures],
            () => Int32Tensor(Take(target, Part.QWeight).QWeight, [packedRows, target.OutFeatures]));
        writer.Add(target.Prefix + ".qzeros", SafetensorsDtype.I32, [groups, zeroColumns],
            () => Int32Tensor(Take(target, Part.QZeros).QZeros, [groups, zeroColumns]));
        writer.Add(target.Prefix + ".g_idx", SafetensorsDtype.I32, [target.InFeatures],
            () => Int32Tensor(Take(target, Part.GIdx).GIdx, [target.InFeatures]));
        writer.Add(target.Prefix + ".scales", SafetensorsDtype.F16, [groups, target.OutFeatures],
            () => HalfTensor(Take(target, Part.Scales).Scales, [groups, target.OutFeatures]));
    }

    private GptqLinear Take(LinearTarget target, Part part)
    {
        if (!_cache.TryGetValue(target.Prefix, out var cached))
        {
            cached = new Cached(checkpoint.ComputeOrRestore(target.Prefix, () => GptqLinear.Quantize(
                WeightBytes.ToFloat32(folder.GetTensorBytes(target.WeightName), target.Dtype), target.OutFeatures, target.InFeatures, spec),
                PackedCheckpoint.Gptq, cancellationToken));
            _cache[target.Prefix] = cached;
            _done++;
            onQuantized(_done, target.WeightName);
        }
        var linear = cached.Linear;
        cached.Pending &= ~part;
        if ((cached.Pending & (Part.QWeight | Part.QZeros | Part.GIdx)) == 0)
        {
            cached.Linear = linear with { QWeight = [], QZeros = [], GIdx = [] };
        }
        if (cached.Pending == Part.None)
        {
            _cache.Remove(target.Prefix);
        }
        return linear;
    }

    private static Tensor Int32Tensor(int[] values, long[] shape) => PackedTensors.Int32(values, shape);

    private static Tensor HalfTensor(Half[] values, long[] shape) => PackedTensors.Half(values, shape);

    [Flags]
    private enum Part
    {
        None = 0,
        QWeight = 1,
        QZeros = 2,
        GIdx = 4,
        Scales = 8,
        All = QWeight | QZeros | GIdx | Scales,
    }

    private sealed class Cached(GptqLinear linear)
    {
        public GptqLinear Linear { get; set; } = linear;
        public Part Pending { get; set; } = Part.All;
    }
}
