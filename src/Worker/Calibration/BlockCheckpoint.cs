using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Calibration;

/// <summary>
/// One finished decoder block in the job's checkpoint (key <c>calibration.block.{index}</c>): every parameter of the block
/// as modified (float32, so restoring is bit-exact) and what the observer kept from it (<see cref="ICheckpointedObserver"/>).
/// </summary>
/// <remarks>
/// The hidden states entering the next block are not stored: a resumed attempt recomputes them by running the restored
/// blocks forward from the embeddings (<see cref="LayerwiseCalibrator"/>). Storing them would cost samples × T × hidden
/// floats per block and stream (128 × 2048 × 4096 × 4 B = 4 GiB for a 7B model, twice with two streams), while one forward
/// pass is a small part of calibrating a block (GPTQ also runs a capture pass per stage and solves every linear), and the
/// same operations on the same inputs give the same bits, so the resumed run stays identical to an uninterrupted one.
/// </remarks>
internal static class BlockCheckpoint
{
    private const string ParameterPrefix = "block.";

    /// <summary>The only parameter a block may gain during calibration (D²Quant's deviation correction).</summary>
    private const string DownProjBias = "mlp.down_proj.bias";

    public static string Key(int index) => $"calibration.block.{index}";

    /// <summary>The saved block, or null when block <paramref name="index"/> was not finished by an earlier attempt.</summary>
    public static SafetensorsFile? TryOpen(JobCheckpoint checkpoint, int index, CancellationToken cancellationToken) =>
        checkpoint.TryOpenTensors(Key(index), cancellationToken);

    public static void Save(JobCheckpoint checkpoint, int index, LlamaDecoderLayer layer, ICalibrationObserver observer,
        CancellationToken cancellationToken)
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new SafetensorsWriter();
        foreach (var (name, parameter) in layer.named_parameters())
        {
            tensors.Add(ParameterPrefix + name, parameter.detach().cpu().to(ScalarType.Float32).contiguous());
        }
        (observer as ICheckpointedObserver)?.SaveBlock(index, tensors);
        checkpoint.SaveTensors(Key(index), tensors, cancellationToken);
    }

    /// <summary>Puts the saved weights into <paramref name="layer"/> and the saved results into <paramref name="observer"/>.</summary>
    public static void Restore(SafetensorsFile saved, int index, LlamaDecoderLayer layer, ICalibrationObserver observer)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        if (saved.Contains(ParameterPrefix + DownProjBias))
        {
            layer.Mlp.AddDownProjBias();
        }
        var parameters = layer.named_parameters().ToList();
        var stored = saved.Tensors.Count(t => t.Name.StartsWith(ParameterPrefix, StringComparison.Ordinal));
        if (stored != parameters.Count)
        {
            throw new InvalidDataException($"The checkpoint of block {index} holds {stored} parameters; the block has {parameters.Count}.");
        }
        foreach (var (name, parameter) in parameters)
        {
            parameter.copy_(saved.ReadTensor(ParameterPrefix + name));
        }
        (observer as ICheckpointedObserver)?.RestoreBlock(index, saved);
    }
}
