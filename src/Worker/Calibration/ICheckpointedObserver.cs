using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Calibration;

/// <summary>
/// An <see cref="ICalibrationObserver"/> whose results outlive the block that produced them (packed linears, running
/// totals): <see cref="LayerwiseCalibrator"/> saves them with each finished block's checkpoint and hands them back when a
/// later attempt resumes. Observers whose only result is the block's weights (Wanda, SparseGPT) need not implement it.
/// </summary>
/// <remarks>
/// Implementers must save totals as they stand after the block (not the block's share), so that a restored observer
/// holds bit for bit what an uninterrupted run holds at that point.
/// </remarks>
public interface ICheckpointedObserver
{
    /// <summary>Adds what block <paramref name="index"/> produced to its checkpoint (tensors and string metadata).</summary>
    void SaveBlock(int index, SafetensorsWriter tensors);

    /// <summary>Takes back what <see cref="SaveBlock"/> saved for block <paramref name="index"/>; blocks come in order, 0 first.</summary>
    void RestoreBlock(int index, SafetensorsFile saved);
}
