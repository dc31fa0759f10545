using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling;

/// <summary>Raw access to the native buffer of a CPU tensor, for bulk copies to and from files.</summary>
/// <remarks>TorchSharp exposes element accessors but no pointer; the native export it uses internally is stable.</remarks>
internal static class TensorMemory
{
    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);

    /// <summary>The address of the first element of a contiguous CPU tensor; valid while the tensor lives.</summary>
    public static IntPtr DataPointer(Tensor tensor)
    {
        if (tensor.device_type != TorchSharp.DeviceType.CPU || !tensor.is_contiguous())
        {
            throw new ArgumentException("raw access needs a contiguous CPU tensor", nameof(tensor));
        }
        var data = THSTensor_data(tensor.Handle);
        if (data == IntPtr.Zero && tensor.numel() > 0)
        {
            TorchSharp.torch.CheckForErrors();
            throw new InvalidOperationException("LibTorch returned no data pointer");
        }
        return data;
    }
}
