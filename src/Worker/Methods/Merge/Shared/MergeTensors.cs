using static TorchSharp.torch;

namespace Optimizer.Worker.Methods.Merge.Shared;

/// <summary>One tensor name's float32 values across a merge's models, as the streaming core hands them to a method.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Base">The base model's tensor (null without a base).</param>
/// <param name="Inputs">Each of <c>models[]</c>' tensor, in request order; null where a stored signature lacks it (RWS only).</param>
/// <param name="Weights">The per-model weights, aligned with <paramref name="Inputs"/>.</param>
public sealed record MergeTensors(string Name, Tensor? Base, IReadOnlyList<Tensor?> Inputs, IReadOnlyList<double> Weights)
{
    /// <summary>The inputs when every model has the tensor (all merges but RWS apply, which the shape check guarantees).</summary>
    public IReadOnlyList<Tensor> All => Inputs.Select(t => t ?? throw new InvalidOperationException($"tensor '{Name}' is missing in an input")).ToList();

    /// <summary>The base tensor, for methods that require one.</summary>
    public Tensor BaseTensor => Base ?? throw new InvalidOperationException("this merge method needs a base model");
}
