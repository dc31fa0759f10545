namespace Optimizer.Worker.Methods.Quantize.BitStack;

/// <summary>Tensor names of block i of a linear (docs/formats/bitstack.md): <c>{prefix}.bitstack.{i}.sign|u|v</c>.</summary>
public static class BitStackNames
{
    public static string Sign(string prefix, int block) => $"{prefix}.bitstack.{block}.sign";

    public static string U(string prefix, int block) => $"{prefix}.bitstack.{block}.u";

    public static string V(string prefix, int block) => $"{prefix}.bitstack.{block}.v";

    /// <summary>Bytes of one block: packed signs plus two float16 factors.</summary>
    public static long BlockBytes(int outFeatures, int inFeatures, int rank) =>
        ((long)outFeatures * inFeatures + 7) / 8 + 2L * rank * (outFeatures + inFeatures);
}
