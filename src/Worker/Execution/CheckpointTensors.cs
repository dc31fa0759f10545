using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Execution;

/// <summary>
/// A checkpoint key holding tensors: one safetensors file. Synchronous, because layer-wise pipelines produce their
/// tensors inside the safetensors writer's callbacks, on the writer's own thread where blocking is safe.
/// </summary>
public static class CheckpointTensors
{
    private const string FileName = "tensors.safetensors";

    /// <summary>The tensors saved under <paramref name="key"/> (memory-mapped; dispose it), or null when there are none.</summary>
    public static SafetensorsFile? TryOpenTensors(this JobCheckpoint checkpoint, string key, CancellationToken cancellationToken)
    {
        var dir = checkpoint.TryRestoreAsync(key, cancellationToken).GetAwaiter().GetResult();
        return dir is null ? null : SafetensorsFile.Open(Path.Combine(dir, FileName));
    }

    /// <summary>Writes <paramref name="tensors"/> and saves them under <paramref name="key"/>.</summary>
    public static void SaveTensors(this JobCheckpoint checkpoint, string key, SafetensorsWriter tensors, CancellationToken cancellationToken)
    {
        var path = Path.Combine(checkpoint.ScratchFor(key), FileName);
        tensors.Save(path);
        checkpoint.SaveAsync(key, [path], cancellationToken).GetAwaiter().GetResult();
    }
}
