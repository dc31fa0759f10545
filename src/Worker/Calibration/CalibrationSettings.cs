using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Calibration;

/// <summary>What the next block sees after a block was modified (ALGORITHMS.md 0.2).</summary>
public enum Propagation
{
    /// <summary>The modified block's output (GPTQ, SparseGPT, Wanda): later blocks calibrate on what the compressed model computes.</summary>
    Modified,
    /// <summary>The block's output computed before it was modified (AWQ's <c>inps = layer(inps)</c> first).</summary>
    FullPrecision,
}

/// <summary>How <see cref="LayerwiseCalibrator"/> walks the blocks.</summary>
/// <param name="TrueSequential">Calibrate q/k/v, then o, then gate/up, then down, recomputing inputs in between.</param>
/// <param name="TwoStreams">Also run the unmodified model alongside and hand each linear its full-precision input (GPTAQ / ResComp).</param>
/// <param name="Propagation">Which output feeds the next block.</param>
/// <param name="CaptureInputs">Whether linears' inputs are computed and passed to <see cref="ICalibrationObserver.Observe"/>; methods that only need the block inputs (AWQ) turn it off.</param>
/// <param name="BatchSize">Windows per forward pass.</param>
/// <param name="Checkpoint">
/// The job's checkpoint: each finished block is saved there and a later attempt resumes after the last one saved
/// (<see cref="BlockCheckpoint"/>); null outside a job.
/// </param>
public sealed record CalibrationSettings(
    bool TrueSequential = false,
    bool TwoStreams = false,
    Propagation Propagation = Propagation.Modified,
    bool CaptureInputs = true,
    int BatchSize = 8,
    JobCheckpoint? Checkpoint = null);
