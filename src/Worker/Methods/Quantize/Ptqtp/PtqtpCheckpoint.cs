using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Methods.Quantize.Ptqtp;

/// <summary>A <see cref="PtqtpLinear"/> in a job checkpoint: both packed planes and the float16-rounded scales.</summary>
internal static class PtqtpCheckpoint
{
    public static CheckpointCodec<PtqtpLinear> Codec { get; } = new(
        (tensors, linear) => tensors
            .AddArray("dims", new[] { linear.OutFeatures, linear.InFeatures, linear.GroupSize })
            .AddArray("plane1", linear.Plane1)
            .AddArray("plane2", linear.Plane2)
            .AddArray("alphas", linear.Alphas),
        saved =>
        {
            var dims = saved.ReadArray<int>("dims");
            return new PtqtpLinear(dims[0], dims[1], dims[2], saved.ReadArray<byte>("plane1"), saved.ReadArray<byte>("plane2"),
                saved.ReadArray<float>("alphas"));
        });
}
