using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>
/// Packed linears in job checkpoints (<see cref="CheckpointTensors"/>): GPTQ and AWQ layouts as flat arrays plus their
/// dimensions, under a name prefix so one key can hold a whole block's linears.
/// </summary>
public static class PackedCheckpoint
{
    /// <summary>
    /// <paramref name="compute"/> with one checkpoint key per linear (its prefix): a linear an earlier attempt finished is
    /// restored instead of quantized again. For the weight-only quantizers, whose linears are independent.
    /// </summary>
    public static Func<LinearTarget, T> PerLinear<T>(JobCheckpoint? checkpoint, CheckpointCodec<T> codec, Func<LinearTarget, T> compute,
        CancellationToken cancellationToken) =>
        target => checkpoint.ComputeOrRestore(target.Prefix, () => compute(target), codec, cancellationToken);

    /// <summary>One GPTQ linear per key (RTN).</summary>
    public static CheckpointCodec<GptqLinear> Gptq { get; } = new((writer, linear) => AddGptq(writer, "", linear), file => ReadGptq(file, ""));

    public static void AddGptq(SafetensorsWriter writer, string prefix, GptqLinear linear) => writer
        .AddArray(prefix + "dims", new[] { linear.OutFeatures, linear.InFeatures, linear.Bits, linear.GroupSize })
        .AddArray(prefix + "qweight", linear.QWeight)
        .AddArray(prefix + "qzeros", linear.QZeros)
        .AddArray(prefix + "scales", linear.Scales)
        .AddArray(prefix + "g_idx", linear.GIdx);

    public static GptqLinear ReadGptq(SafetensorsFile file, string prefix)
    {
        var dims = file.ReadArray<int>(prefix + "dims");
        return new GptqLinear(dims[0], dims[1], dims[2], dims[3], file.ReadArray<int>(prefix + "qweight"),
            file.ReadArray<int>(prefix + "qzeros"), file.ReadArray<Half>(prefix + "scales"), file.ReadArray<int>(prefix + "g_idx"));
    }

    public static void AddAwq(SafetensorsWriter writer, string prefix, AwqLinear linear) => writer
        .AddArray(prefix + "awq_dims", new[] { linear.OutFeatures, linear.InFeatures, linear.GroupSize })
        .AddArray(prefix + "qweight", linear.QWeight)
        .AddArray(prefix + "qzeros", linear.QZeros)
        .AddArray(prefix + "scales", linear.Scales);

    /// <summary>The linear saved under <paramref name="prefix"/> by <see cref="AddAwq"/> or <see cref="AddGptq"/>.</summary>
    public static object ReadPacked(SafetensorsFile file, string prefix)
    {
        if (!file.Contains(prefix + "awq_dims"))
        {
            return ReadGptq(file, prefix);
        }
        var dims = file.ReadArray<int>(prefix + "awq_dims");
        return new AwqLinear(dims[0], dims[1], dims[2], file.ReadArray<int>(prefix + "qweight"), file.ReadArray<int>(prefix + "qzeros"),
            file.ReadArray<Half>(prefix + "scales"));
    }

    /// <summary>Adds the linears of <paramref name="packed"/> that belong to block <paramref name="index"/>, named in the metadata.</summary>
    public static void AddBlock<T>(SafetensorsWriter writer, IReadOnlyDictionary<string, T> packed, int index, Action<SafetensorsWriter, string, T> add)
    {
        var names = packed.Keys.Where(n => n.StartsWith($"model.layers.{index}.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        foreach (var name in names)
        {
            add(writer, name + ".", packed[name]);
        }
        writer.Metadata[PackedNames] = string.Join(',', names);
    }

    /// <summary>Puts the linears saved by <see cref="AddBlock"/> back into <paramref name="packed"/>.</summary>
    public static void ReadBlock<T>(SafetensorsFile saved, IDictionary<string, T> packed, Func<SafetensorsFile, string, T> read)
    {
        foreach (var name in saved.Metadata[PackedNames].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            packed[name] = read(saved, name + ".");
        }
    }

    private const string PackedNames = "packed_linears";
}
