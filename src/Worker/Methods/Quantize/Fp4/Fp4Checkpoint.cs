using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Methods.Quantize.Fp4;

/// <summary>An <see cref="Fp4Linear"/> in a job checkpoint: its arrays as stored in memory (float scales, not yet float16 bytes).</summary>
internal static class Fp4Checkpoint
{
    public static CheckpointCodec<Fp4Linear> Codec { get; } = new(
        (tensors, linear) => tensors
            .AddArray("dims", new[] { linear.OutFeatures, linear.InFeatures, linear.GroupSize, linear.LorcRank })
            .AddArray("packed", linear.Packed)
            .AddArray("group_scales", linear.GroupScales)
            .AddArray("row_scales", linear.RowScales)
            .AddArray("lorc_u", linear.LorcU)
            .AddArray("lorc_v", linear.LorcV),
        saved =>
        {
            var dims = saved.ReadArray<int>("dims");
            return new Fp4Linear(dims[0], dims[1], dims[2], saved.ReadArray<byte>("packed"), saved.ReadArray<float>("group_scales"),
                saved.ReadArray<float>("row_scales"), dims[3], saved.ReadArray<float>("lorc_u"), saved.ReadArray<float>("lorc_v"));
        });
}
