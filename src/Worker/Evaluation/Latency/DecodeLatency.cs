using System.Diagnostics;
using Optimizer.Worker.Inference;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Evaluation.Latency;

/// <summary>
/// Measures ms per token of a batch-1 decode step: the fastest of <see cref="Repetitions"/> forward passes over a single token, for the
/// fp32 baseline and for the quantized candidate with its linears on the low-bit kernels (<see cref="KernelModel"/>).
/// </summary>
/// <remarks>
/// A single-token forward is what a decode step with a KV cache costs apart from attention over earlier tokens (the worker's
/// models keep no cache): every weight is streamed once for one activation row, which is what the kernels speed up.
/// The two models alternate step by step so that load from other processes hits both alike, and the fastest step is kept:
/// contention only ever adds time, so the minimum is the estimate least moved by other work on a shared machine (the median
/// of a loaded 2-core worker moved several-fold between runs).
/// </remarks>
public static class DecodeLatency
{
    public const int WarmUp = 3;
    public const int Repetitions = 25;

    /// <summary>
    /// The measurement, or null when no kernel runs any of the candidate's linears, or when models run on a GPU (the
    /// kernels are CPU code; a CPU timing would say nothing about that worker).
    /// </summary>
    public static LatencyMeasurement? TryMeasure(ModelFolder candidateFolder, LlamaForCausalLM baseline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidateFolder);
        ArgumentNullException.ThrowIfNull(baseline);
        if (ComputeDevice.Preferred.type != DeviceType.CPU || candidateFolder.Config.QuantizationConfig is null)
        {
            return null;
        }
        using var candidate = KernelModel.Load(candidateFolder);
        var kernels = KernelModel.Linears(candidate);
        if (kernels.Count == 0)
        {
            return null;
        }
        var (candidateMs, baselineMs) = MeasureSteps(candidate, baseline, cancellationToken);
        return new LatencyMeasurement(candidateMs, baselineMs, kernels.Count,
            [.. kernels.Select(k => k.Weight.Format).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], Repetitions);
    }

    /// <summary>The fastest single-token forward of each model in ms, the two alternating.</summary>
    public static (double First, double Second) MeasureSteps(nn.Module<Tensor, Tensor> first, nn.Module<Tensor, Tensor> second,
        CancellationToken cancellationToken)
    {
        first.eval();
        second.eval();
        using var noGrad = torch.no_grad();
        using var token = torch.tensor(new long[] { 1 }, [1, 1], dtype: ScalarType.Int64);
        var times = (First: new List<double>(), Second: new List<double>());
        for (var step = 0; step < WarmUp + Repetitions; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var a = Time(first, token);
            var b = Time(second, token);
            if (step >= WarmUp)
            {
                times.First.Add(a);
                times.Second.Add(b);
            }
        }
        return (times.First.Min(), times.Second.Min());
    }

    private static double Time(nn.Module<Tensor, Tensor> model, Tensor token)
    {
        var clock = Stopwatch.StartNew();
        using (model.forward(token))
        {
            return clock.Elapsed.TotalMilliseconds;
        }
    }
}
