using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using Optimizer.Worker.Execution;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Fp4;

/// <summary>
/// Adds each target's FP4 tensors (docs/formats/fp4.md) to the writer, quantizing each layer once; in a job each quantized
/// linear is saved to the checkpoint and restored from it on a retry.
/// </summary>
internal sealed class Fp4LayerSource
{
    private readonly Fp4Spec _spec;
    private readonly LayerParts<Fp4Linear> _parts;

    /// <param name="folder">The floating-point source.</param>
    /// <param name="spec">Group size, scale constraint, LoRC rank.</param>
    /// <param name="onQuantized">Progress: called once per layer when it is quantized.</param>
    /// <param name="checkpoint">The job's checkpoint: each RTN-quantized linear is saved to it and restored on a retry.</param>
    /// <param name="cancellationToken">Checked between linears.</param>
    /// <param name="rounded">Layers already rounded (GPTQ rounding, checkpointed per block by the calibration loop), by
    /// weight name; the others are quantized by RTN here.</param>
    public Fp4LayerSource(ModelFolder folder, Fp4Spec spec, Action<int, string> onQuantized, JobCheckpoint? checkpoint,
        CancellationToken cancellationToken, IReadOnlyDictionary<string, Fp4Linear>? rounded = null)
    {
        _spec = spec;
        var partsPerLayer = 2 + (spec.Constraint == Fp4ScaleConstraint.RowPow2 ? 1 : 0) + (spec.LorcRank > 0 ? 2 : 0);
        var quantize = PackedCheckpoint.PerLinear(checkpoint, Fp4Checkpoint.Codec, target => Fp4Linear.Quantize(
            WeightBytes.ToFloat32(folder.GetTensorBytes(target.WeightName), target.Dtype), target.OutFeatures, target.InFeatures, spec),
            cancellationToken);
        _parts = new LayerParts<Fp4Linear>(target => rounded?.GetValueOrDefault(target.WeightName) ?? quantize(target),
            partsPerLayer, onQuantized);
    }

    public void AddTo(SafetensorsWriter writer, LinearTarget target)
    {
        var (outF, inF) = (target.OutFeatures, target.InFeatures);
        var groups = Fp4Quantizer.GroupCount(inF, _spec.GroupSize);
        writer.AddBytes(target.Prefix + Fp4Names.Packed, SafetensorsDtype.U8, [outF, inF / 2], () => _parts.Take(target).Packed);
        if (_spec.Pow2Scales)
        {
            writer.AddBytes(target.Prefix + Fp4Names.Scale, SafetensorsDtype.U8, [outF, groups],
                () => [.. _parts.Take(target).GroupScales.Select(Fp4Quantizer.ToE8M0)]);
        }
        else
        {
            writer.AddBytes(target.Prefix + Fp4Names.Scale, SafetensorsDtype.F16, [outF, groups],
                () => TensorBytes.Half(_parts.Take(target).GroupScales));
        }
        if (_spec.Constraint == Fp4ScaleConstraint.RowPow2)
        {
            writer.AddBytes(target.Prefix + Fp4Names.RowScale, SafetensorsDtype.F32, [outF, 1],
                () => TensorBytes.Float(_parts.Take(target).RowScales));
        }
        var rank = Math.Min(_spec.LorcRank, Math.Min(outF, inF));
        if (rank > 0)
        {
            writer.AddBytes(target.Prefix + Fp4Names.LorcU, SafetensorsDtype.F16, [outF, rank], () => TensorBytes.Half(_parts.Take(target).LorcU));
            writer.AddBytes(target.Prefix + Fp4Names.LorcV, SafetensorsDtype.F16, [rank, inF], () => TensorBytes.Half(_parts.Take(target).LorcV));
        }
    }
}

/// <summary>Suffixes of the FP4 tensors after a linear's prefix (docs/formats/fp4.md).</summary>
public static class Fp4Names
{
    public const string Packed = ".weight_packed";
    public const string Scale = ".weight_scale";
    public const string RowScale = ".weight_row_scale";
    public const string LorcU = ".weight_lorc_u";
    public const string LorcV = ".weight_lorc_v";
}
