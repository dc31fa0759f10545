using System.Runtime.InteropServices;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Execution;

/// <summary>
/// A checkpoint key holding tensors: one safetensors file. Synchronous, because layer-wise pipelines produce their
/// tensors inside the safetensors writer's callbacks (or inside the calibration loop), on a thread where blocking is safe.
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

    /// <summary>
    /// The value saved under <paramref name="key"/> by an earlier attempt, or <paramref name="compute"/>'s result, which is
    /// then saved there: the one place where a unit of work (a linear, a block) is restored or done and checkpointed.
    /// Without a checkpoint (tests, measurements) it only computes.
    /// </summary>
    public static T ComputeOrRestore<T>(this JobCheckpoint? checkpoint, string key, Func<T> compute, CheckpointCodec<T> codec,
        CancellationToken cancellationToken)
    {
        if (checkpoint is null)
        {
            return compute();
        }
        using (var saved = checkpoint.TryOpenTensors(key, cancellationToken))
        {
            if (saved is not null)
            {
                return codec.Read(saved);
            }
        }
        var value = compute();
        var tensors = new SafetensorsWriter();
        codec.Write(tensors, value);
        checkpoint.SaveTensors(key, tensors, cancellationToken);
        return value;
    }

    /// <summary>Adds a flat array as a 1-D tensor (int, float, double, Half or byte elements).</summary>
    public static SafetensorsWriter AddArray<T>(this SafetensorsWriter writer, string name, T[] values) where T : unmanaged =>
        writer.Add(name, DtypeOf<T>(), [values.Length], MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    /// <summary>A copy of a tensor written by <see cref="AddArray{T}"/>.</summary>
    public static T[] ReadArray<T>(this SafetensorsFile file, string name) where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(file.GetBytes(name)).ToArray();

    private static SafetensorsDtype DtypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(int) ? SafetensorsDtype.I32
        : typeof(T) == typeof(float) ? SafetensorsDtype.F32
        : typeof(T) == typeof(double) ? SafetensorsDtype.F64
        : typeof(T) == typeof(Half) ? SafetensorsDtype.F16
        : typeof(T) == typeof(byte) ? SafetensorsDtype.U8
        : throw new NotSupportedException($"{typeof(T).Name} arrays are not stored in checkpoints; use int, float, double, Half or byte.");
}

/// <summary>How a checkpointed value is written to, and read back from, the tensors of its key (bit-exact both ways).</summary>
public sealed record CheckpointCodec<T>(Action<SafetensorsWriter, T> Write, Func<SafetensorsFile, T> Read);
