using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Optimizer.Domain.Methods.Prune;

/// <summary>Prune options of the methods that calibrate layer by layer on text (Wanda, SparseGPT).</summary>
public abstract record CalibratedPruneOptions : PruneOptions
{
    [Description("Calibration windows taken from the job's calibration dataset (Wanda's and SparseGPT's default 128).")]
    [Range(1, 1024)]
    public int CalibrationSamples { get; init; } = 128;

    [Description("Tokens per calibration window; capped at the model's max_position_embeddings.")]
    [Range(16, 8192)]
    public int SeqLen { get; init; } = 2048;
}
