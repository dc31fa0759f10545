using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.LowBit;
using Optimizer.Worker.Methods.Quantize.Awq;
using Optimizer.Worker.Methods.Quantize.Fp4;
using Optimizer.Worker.Methods.Quantize.Fp8;
using Optimizer.Worker.Methods.Quantize.Gptq;
using Optimizer.Worker.Methods.Quantize.Ptqtp;
using Optimizer.Worker.Methods.Quantize.Shared;
using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Inference;

/// <summary>
/// Builds a <see cref="KernelLinear"/> from a linear as a quantized checkpoint stores it: GPTQ packing at 4 bits (rtn, gptq,
/// act-order included) and 8 bits (rtn, contiguous groups), AWQ GEMM 4-bit, FP8 E4M3 with scales, FP4 (with LoRC) and
/// PTQTP trit planes.
/// </summary>
/// <remarks>
/// Everything else stays dense (the dequantize-on-load path): 2/3-bit GPTQ, FP8 E5M2, BitStack, unquantized linears, and
/// layouts a kernel cannot run (a group narrower than one kernel step, act-order at 8 bits).
/// </remarks>
public static class KernelLinearReader
{
    /// <summary>The kernel linear of <paramref name="prefix"/> (e.g. <c>model.layers.0.mlp.up_proj</c>), or null when no kernel runs it.</summary>
    public static KernelLinear? TryRead(ModelFolder folder, string prefix)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var quantization = folder.Config.QuantizationConfig;
        var method = quantization?["quant_method"]?.GetValue<string>();
        var groupSize = quantization?["group_size"]?.GetValue<int>() ?? -1;
        var hasBias = folder.ContainsTensor(prefix + ".bias");
        try
        {
            return method switch
            {
                "gptq" when folder.ContainsTensor(prefix + ".qweight") => Gptq(folder, prefix, quantization!["bits"]!.GetValue<int>(), groupSize, hasBias),
                "awq" when folder.ContainsTensor(prefix + ".qweight") =>
                    new KernelLinear(KernelWeights.Int4(Int4Matrix.FromAwq(AwqPackedWeightReader.Read(folder, prefix, groupSize))), hasBias),
                "fp4" when folder.ContainsTensor(prefix + Fp4Names.Packed) => Fp4(Fp4PackedWeightReader.Read(folder, prefix), hasBias),
                "ptqtp" when folder.ContainsTensor(prefix + PtqtpNames.Plane1) => Ptqtp(PtqtpPackedWeightReader.Read(folder, prefix), hasBias),
                _ => Fp8(folder, prefix, hasBias),
            };
        }
        catch (ArgumentException)
        {
            // The kernels' packers reject the layouts they cannot run (BlockLayout's group rules, act-order at 8 bits):
            // that linear stays dense.
            return null;
        }
    }

    private static KernelLinear? Gptq(ModelFolder folder, string prefix, int bits, int groupSize, bool hasBias) => bits switch
    {
        4 => new KernelLinear(KernelWeights.Int4(Int4Matrix.FromGptq(GptqPackedWeightReader.Read(folder, prefix, bits, groupSize))), hasBias),
        8 => new KernelLinear(KernelWeights.Int8(Int8Matrix.FromGptq(GptqPackedWeightReader.Read(folder, prefix, bits, groupSize))), hasBias),
        _ => null,
    };

    private static KernelLinear Fp4(Fp4Linear linear, bool hasBias) =>
        new(KernelWeights.Fp4(Fp4Matrix.Pack(linear.Packed, linear.GroupScales, linear.RowScales, linear.OutFeatures, linear.InFeatures,
            linear.GroupSize)), hasBias, linear.LorcRank > 0 ? (linear.LorcU, linear.LorcV, linear.LorcRank) : null);

    private static KernelLinear Ptqtp(PtqtpLinear linear, bool hasBias) =>
        new(KernelWeights.Ternary(TernaryMatrix.FromPtqtp(linear.Plane1, linear.Plane2, linear.Alphas, linear.OutFeatures, linear.InFeatures,
            linear.GroupSize)), hasBias);

    /// <summary>FP8 is recognised by its tensors (as <see cref="Fp8PackedWeightReader"/> does): an E4M3 weight with a float32 scale.</summary>
    private static KernelLinear? Fp8(ModelFolder folder, string prefix, bool hasBias)
    {
        var (weightName, scaleName) = (prefix + ".weight", prefix + ".weight_scale");
        if (!folder.ContainsTensor(weightName) || !folder.ContainsTensor(scaleName))
        {
            return null;
        }
        var entry = folder.GetEntry(weightName);
        if (entry.Shape.Length != 2 || entry.Dtype != SafetensorsDtype.F8_E4M3 || folder.GetEntry(scaleName).Dtype != SafetensorsDtype.F32)
        {
            return null;
        }
        var scales = TensorBytes.ReadFloat(folder, scaleName);
        return new KernelLinear(KernelWeights.Fp8(Fp8Matrix.Pack(folder.GetTensorBytes(weightName), scales, (int)entry.Shape[0], (int)entry.Shape[1])),
            hasBias);
    }
}
