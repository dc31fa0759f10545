using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Fp4;

/// <summary>An <see cref="Fp4Linear"/> in a job checkpoint: its arrays as stored in memory (float scales, not yet float16 bytes).</summary>
internal static class Fp4Checkpoint
{
    /// <summary>One linear per key (RTN rounding).</summary>
    public static CheckpointCodec<Fp4Linear> Codec { get; } = new((tensors, linear) => Add(tensors, "", linear), saved => Read(saved, ""));

    /// <summary>Adds <paramref name="linear"/> under <paramref name="prefix"/> (a block checkpoint holds several: GPTQ rounding).</summary>
    public static void Add(SafetensorsWriter tensors, string prefix, Fp4Linear linear) => tensors
        .AddArray(prefix + "dims", new[] { linear.OutFeatures, linear.InFeatures, linear.GroupSize, linear.LorcRank })
        .AddArray(prefix + "packed", linear.Packed)
        .AddArray(prefix + "group_scales", linear.GroupScales)
        .AddArray(prefix + "row_scales", linear.RowScales)
        .AddArray(prefix + "lorc_u", linear.LorcU)
        .AddArray(prefix + "lorc_v", linear.LorcV);

    public static Fp4Linear Read(SafetensorsFile saved, string prefix)
    {
        var dims = saved.ReadArray<int>(prefix + "dims");
        return new Fp4Linear(dims[0], dims[1], dims[2], saved.ReadArray<byte>(prefix + "packed"), saved.ReadArray<float>(prefix + "group_scales"),
            saved.ReadArray<float>(prefix + "row_scales"), dims[3], saved.ReadArray<float>(prefix + "lorc_u"), saved.ReadArray<float>(prefix + "lorc_v"));
    }
}
