using Optimizer.Domain.Formats.Safetensors;
using TorchSharp;

namespace Optimizer.Worker.Modeling;

/// <summary>Maps safetensors dtypes to the TorchSharp dtypes they are read as, and back.</summary>
public static class SafetensorsDtypeMapping
{
    /// <summary>The dtype a tensor of <paramref name="dtype"/> is read as (FP8 is decoded to float32).</summary>
    public static torch.ScalarType ToTorch(this SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F64 => torch.ScalarType.Float64,
        SafetensorsDtype.F32 => torch.ScalarType.Float32,
        SafetensorsDtype.F16 => torch.ScalarType.Float16,
        SafetensorsDtype.BF16 => torch.ScalarType.BFloat16,
        SafetensorsDtype.I64 => torch.ScalarType.Int64,
        SafetensorsDtype.I32 => torch.ScalarType.Int32,
        SafetensorsDtype.I16 => torch.ScalarType.Int16,
        SafetensorsDtype.I8 => torch.ScalarType.Int8,
        SafetensorsDtype.U8 => torch.ScalarType.Byte,
        SafetensorsDtype.BOOL => torch.ScalarType.Bool,
        SafetensorsDtype.F8_E4M3 or SafetensorsDtype.F8_E5M2 => torch.ScalarType.Float32,
        _ => throw new NotSupportedException($"safetensors dtype {dtype} has no TorchSharp equivalent"),
    };

    /// <summary>The safetensors dtype a TorchSharp tensor of <paramref name="dtype"/> is written as.</summary>
    public static SafetensorsDtype ToSafetensors(this torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float64 => SafetensorsDtype.F64,
        torch.ScalarType.Float32 => SafetensorsDtype.F32,
        torch.ScalarType.Float16 => SafetensorsDtype.F16,
        torch.ScalarType.BFloat16 => SafetensorsDtype.BF16,
        torch.ScalarType.Int64 => SafetensorsDtype.I64,
        torch.ScalarType.Int32 => SafetensorsDtype.I32,
        torch.ScalarType.Int16 => SafetensorsDtype.I16,
        torch.ScalarType.Int8 => SafetensorsDtype.I8,
        torch.ScalarType.Byte => SafetensorsDtype.U8,
        torch.ScalarType.Bool => SafetensorsDtype.BOOL,
        _ => throw new NotSupportedException(
            $"TorchSharp dtype {dtype} cannot be written to safetensors; supported: float64/32/16, bfloat16, int64/32/16/8, uint8, bool"),
    };

    public static bool IsFp8(this SafetensorsDtype dtype) =>
        dtype is SafetensorsDtype.F8_E4M3 or SafetensorsDtype.F8_E5M2;
}
