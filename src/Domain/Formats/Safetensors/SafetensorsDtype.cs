namespace Optimizer.Domain.Formats.Safetensors;

/// <summary>The safetensors dtypes the service reads and writes.</summary>
public enum SafetensorsDtype
{
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    BOOL,
    F8_E4M3,
    F8_E5M2,
}

public static class SafetensorsDtypeExtensions
{
    public static int ElementSize(this SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F64 or SafetensorsDtype.I64 => 8,
        SafetensorsDtype.F32 or SafetensorsDtype.I32 => 4,
        SafetensorsDtype.F16 or SafetensorsDtype.BF16 or SafetensorsDtype.I16 => 2,
        _ => 1,
    };

    public static bool TryParse(string? text, out SafetensorsDtype dtype) =>
        Enum.TryParse(text, ignoreCase: false, out dtype) && Enum.IsDefined(dtype) && text == dtype.ToString();
}
