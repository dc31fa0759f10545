namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>A stored linear that dequantizes to a dense row-major <c>[OutFeatures, InFeatures]</c> float32 weight.</summary>
public interface IDenseLinear
{
    int OutFeatures { get; }

    int InFeatures { get; }

    /// <summary>The dense weight, row-major.</summary>
    float[] Dequantize();
}
