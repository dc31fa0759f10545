using TorchSharp;

namespace Optimizer.Worker.Modeling;

/// <summary>Where models run: the GPU when the worker's libtorch build has one (gpu images), else the CPU.</summary>
public static class ComputeDevice
{
    private static readonly Lazy<torch.Device> s_preferred = new(() => torch.cuda.is_available() ? torch.CUDA : torch.CPU);

    public static torch.Device Preferred => s_preferred.Value;
}
