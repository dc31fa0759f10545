using System.Diagnostics.CodeAnalysis;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling;

/// <summary>
/// Reconstructs a dense weight that a model folder stores in a packed form (GPTQ/AWQ int4, FP8 with
/// scales, ...). <see cref="ModelFolder.ReadWeight"/> asks its readers in order when the dense tensor is absent or FP8.
/// </summary>
/// <remarks>
/// Implementers must return <c>false</c> (not throw) when the folder holds no packed form of the weight
/// they understand, and return a new tensor the caller owns, in float32 unless the format says otherwise.
/// </remarks>
public interface IPackedWeightReader
{
    /// <param name="folder">The folder being read (its config, tensor names and raw tensors).</param>
    /// <param name="weightName">The dense name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
    /// <param name="weight">The dense weight, when this reader recognised a packed form.</param>
    bool TryRead(ModelFolder folder, string weightName, [NotNullWhen(true)] out Tensor? weight);
}
